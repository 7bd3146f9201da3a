--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: experiment_columns; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.experiment_columns (
    experiment_id integer NOT NULL,
    kind character varying(8) NOT NULL,
    name character varying(255) NOT NULL
);


--
-- Name: experiments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.experiments (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    run_count integer DEFAULT 0 NOT NULL,
    last_activity timestamp with time zone,
    primary_metric character varying(255),
    primary_goal character varying(8) DEFAULT 'min'::character varying NOT NULL
);


--
-- Name: experiments_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.experiments_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: experiments_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.experiments_id_seq OWNED BY public.experiments.id;


--
-- Name: files; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.files (
    run_id character varying(64) NOT NULL,
    name character varying(1024) NOT NULL,
    uri text NOT NULL,
    size bigint NOT NULL,
    sha256 character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.meta (
    key character varying(64) NOT NULL,
    value character varying(255) NOT NULL
);


--
-- Name: metric_summaries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.metric_summaries (
    run_id character varying(64) NOT NULL,
    name character varying(255) NOT NULL,
    experiment_id integer NOT NULL,
    number integer NOT NULL,
    last double precision,
    last_special character varying(8),
    min double precision,
    max double precision,
    count integer NOT NULL
);


--
-- Name: metrics; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.metrics (
    run_id character varying(64) NOT NULL,
    name character varying(255) NOT NULL,
    step integer NOT NULL,
    value double precision,
    special character varying(8),
    "timestamp" timestamp with time zone NOT NULL
);


--
-- Name: params; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.params (
    run_id character varying(64) NOT NULL,
    key character varying(255) NOT NULL,
    experiment_id integer NOT NULL,
    value_json text NOT NULL,
    value_num double precision,
    number integer NOT NULL
);


--
-- Name: run_properties; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.run_properties (
    run_id character varying(64) NOT NULL,
    key character varying(255) NOT NULL,
    value text NOT NULL,
    experiment_id integer NOT NULL
);


--
-- Name: run_tags; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.run_tags (
    run_id character varying(64) NOT NULL,
    key character varying(255) NOT NULL,
    value text NOT NULL
);


--
-- Name: runs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.runs (
    run_id character varying(64) NOT NULL,
    experiment_id integer NOT NULL,
    number integer NOT NULL,
    status character varying(16) NOT NULL,
    display_name character varying(255),
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone,
    error text
);


--
-- Name: experiments id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.experiments ALTER COLUMN id SET DEFAULT nextval('public.experiments_id_seq'::regclass);


--
-- Data for Name: experiment_columns; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.experiment_columns VALUES (1, 'metric', 'alpha_value');
INSERT INTO public.experiment_columns VALUES (1, 'metric', 'rmse');
INSERT INTO public.experiment_columns VALUES (1, 'metric', 'loss');
INSERT INTO public.experiment_columns VALUES (1, 'metric', 'ratio');
INSERT INTO public.experiment_columns VALUES (1, 'param', 'alpha');
INSERT INTO public.experiment_columns VALUES (1, 'param', 'solver');
INSERT INTO public.experiment_columns VALUES (1, 'param', 'grid');
INSERT INTO public.experiment_columns VALUES (2, 'metric', 'accuracy');
INSERT INTO public.experiment_columns VALUES (2, 'param', 'kernel');
INSERT INTO public.experiment_columns VALUES (2, 'param', 'C');


--
-- Data for Name: experiments; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.experiments VALUES (1, 'diabetes-experiment', '2026-11-30 09:39:55.549407+00', 6, '2026-11-30 09:39:56.140451+00', 'rmse', 'min');
INSERT INTO public.experiments VALUES (2, 'iris', '2026-11-30 09:39:56.161403+00', 2, '2026-11-30 09:39:56.259228+00', 'accuracy', 'max');


--
-- Data for Name: files; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.files VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'model_alpha_0.1.pkl', 'file:///tmp/raysweep-schema-v3/postgres/storage/runs/ddd37e94-a794-4296-94df-08170adad3d4/model_alpha_0.1.pkl', 9, '85f00a6d6e885be1a220fc5548bf11beab4365fefdbdbc9080148afe8a86a449', '2026-11-30 09:39:55.735073+00');
INSERT INTO public.files VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'outputs/notes.txt', 'file:///tmp/raysweep-schema-v3/postgres/storage/runs/ddd37e94-a794-4296-94df-08170adad3d4/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 09:39:55.762909+00');
INSERT INTO public.files VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'model_alpha_0.5.pkl', 'file:///tmp/raysweep-schema-v3/postgres/storage/runs/8d7ad89b-a2c5-46cc-9e4b-7da2756413c3/model_alpha_0.5.pkl', 9, '9d05e9b2cbba2420dd8460a53d0f786ef6a26d650456dc1b7a64b0993d832d1b', '2026-11-30 09:39:55.904507+00');
INSERT INTO public.files VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'outputs/notes.txt', 'file:///tmp/raysweep-schema-v3/postgres/storage/runs/8d7ad89b-a2c5-46cc-9e4b-7da2756413c3/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 09:39:55.921544+00');
INSERT INTO public.files VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'model_alpha_1.0.pkl', 'file:///tmp/raysweep-schema-v3/postgres/storage/runs/9ceb84e9-6448-4cde-9491-234e67f78d57/model_alpha_1.0.pkl', 9, '24c4120362d41ba784bb84c3164e6ac99f99ff4abe9162d79265a66f8c8b5c49', '2026-11-30 09:39:56.055978+00');
INSERT INTO public.files VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'outputs/notes.txt', 'file:///tmp/raysweep-schema-v3/postgres/storage/runs/9ceb84e9-6448-4cde-9491-234e67f78d57/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 09:39:56.082508+00');


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('schema_version', '3');


--
-- Data for Name: metric_summaries; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.metric_summaries VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'alpha_value', 1, 1, 0.1, NULL, 0.1, 0.1, 1);
INSERT INTO public.metric_summaries VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'rmse', 1, 1, 57, NULL, 57, 57, 1);
INSERT INTO public.metric_summaries VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'loss', 1, 1, 1, NULL, 1, 3, 4);
INSERT INTO public.metric_summaries VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'ratio', 1, 1, 0, NULL, 0, 0, 1);
INSERT INTO public.metric_summaries VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'alpha_value', 1, 2, 0.5, NULL, 0.5, 0.5, 1);
INSERT INTO public.metric_summaries VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'rmse', 1, 2, 57.5, NULL, 57.5, 57.5, 1);
INSERT INTO public.metric_summaries VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'loss', 1, 2, 1, NULL, 1, 2, 4);
INSERT INTO public.metric_summaries VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'ratio', 1, 2, NULL, 'inf', NULL, NULL, 1);
INSERT INTO public.metric_summaries VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'alpha_value', 1, 3, 1, NULL, 1, 1, 1);
INSERT INTO public.metric_summaries VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'rmse', 1, 3, 58, NULL, 58, 58, 1);
INSERT INTO public.metric_summaries VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'loss', 1, 3, 1, NULL, 0.5, 1, 4);
INSERT INTO public.metric_summaries VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'ratio', 1, 3, 0.5, NULL, 0.5, 0.5, 1);
INSERT INTO public.metric_summaries VALUES ('2a0bb887-b087-45ca-ac0a-394d503258c6', 'rmse', 1, 4, NULL, 'nan', NULL, NULL, 1);
INSERT INTO public.metric_summaries VALUES ('c3787688-c6df-4581-a088-3d68d38a49bf', 'rmse', 1, 5, 80, NULL, 80, 80, 1);
INSERT INTO public.metric_summaries VALUES ('f8250ba2-eb83-4416-90d2-8ba111974bd2', 'rmse', 1, 6, 70, NULL, 70, 70, 1);
INSERT INTO public.metric_summaries VALUES ('6cc7234e-b929-415a-9540-fb79f2911182', 'accuracy', 2, 1, 0.9, NULL, 0.9, 0.9, 1);
INSERT INTO public.metric_summaries VALUES ('356778e2-6ca7-482f-a8f9-b051ab4911fa', 'accuracy', 2, 2, 0.96, NULL, 0.96, 0.96, 1);


--
-- Data for Name: metrics; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.metrics VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'alpha_value', 0, 0.1, NULL, '2026-11-30 09:39:55.58436+00');
INSERT INTO public.metrics VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'rmse', 0, 57, NULL, '2026-11-30 09:39:55.607571+00');
INSERT INTO public.metrics VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'loss', 0, 3, NULL, '2026-11-30 09:39:55.621005+00');
INSERT INTO public.metrics VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'loss', 1, 2.5, NULL, '2026-11-30 09:39:55.621005+00');
INSERT INTO public.metrics VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'loss', 2, NULL, 'nan', '2026-11-30 09:39:55.621005+00');
INSERT INTO public.metrics VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'loss', 3, 1, NULL, '2026-11-30 09:39:55.621005+00');
INSERT INTO public.metrics VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'ratio', 0, 0, NULL, '2026-11-30 09:39:55.637483+00');
INSERT INTO public.metrics VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'alpha_value', 0, 0.5, NULL, '2026-11-30 09:39:55.796386+00');
INSERT INTO public.metrics VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'rmse', 0, 57.5, NULL, '2026-11-30 09:39:55.806156+00');
INSERT INTO public.metrics VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'loss', 0, 2, NULL, '2026-11-30 09:39:55.815519+00');
INSERT INTO public.metrics VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'loss', 1, 1.5, NULL, '2026-11-30 09:39:55.815519+00');
INSERT INTO public.metrics VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'loss', 2, NULL, 'nan', '2026-11-30 09:39:55.815519+00');
INSERT INTO public.metrics VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'loss', 3, 1, NULL, '2026-11-30 09:39:55.815519+00');
INSERT INTO public.metrics VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'ratio', 0, NULL, 'inf', '2026-11-30 09:39:55.829329+00');
INSERT INTO public.metrics VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'alpha_value', 0, 1, NULL, '2026-11-30 09:39:55.94121+00');
INSERT INTO public.metrics VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'rmse', 0, 58, NULL, '2026-11-30 09:39:55.951023+00');
INSERT INTO public.metrics VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'loss', 0, 1, NULL, '2026-11-30 09:39:55.960183+00');
INSERT INTO public.metrics VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'loss', 1, 0.5, NULL, '2026-11-30 09:39:55.960183+00');
INSERT INTO public.metrics VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'loss', 2, NULL, 'nan', '2026-11-30 09:39:55.960183+00');
INSERT INTO public.metrics VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'loss', 3, 1, NULL, '2026-11-30 09:39:55.960183+00');
INSERT INTO public.metrics VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'ratio', 0, 0.5, NULL, '2026-11-30 09:39:55.972477+00');
INSERT INTO public.metrics VALUES ('2a0bb887-b087-45ca-ac0a-394d503258c6', 'rmse', 0, NULL, 'nan', '2026-11-30 09:39:56.104797+00');
INSERT INTO public.metrics VALUES ('c3787688-c6df-4581-a088-3d68d38a49bf', 'rmse', 0, 80, NULL, '2026-11-30 09:39:56.125575+00');
INSERT INTO public.metrics VALUES ('f8250ba2-eb83-4416-90d2-8ba111974bd2', 'rmse', 0, 70, NULL, '2026-11-30 09:39:56.148345+00');
INSERT INTO public.metrics VALUES ('6cc7234e-b929-415a-9540-fb79f2911182', 'accuracy', 0, 0.9, NULL, '2026-11-30 09:39:56.180978+00');
INSERT INTO public.metrics VALUES ('356778e2-6ca7-482f-a8f9-b051ab4911fa', 'accuracy', 0, 0.96, NULL, '2026-11-30 09:39:56.231782+00');


--
-- Data for Name: params; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.params VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'alpha', 1, '0.1', 0.1, 1);
INSERT INTO public.params VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'solver', 1, '"auto"', NULL, 1);
INSERT INTO public.params VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'grid', 1, '{"fold": 0, "keep": [1, 2]}', NULL, 1);
INSERT INTO public.params VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'alpha', 1, '0.5', 0.5, 2);
INSERT INTO public.params VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'solver', 1, '"auto"', NULL, 2);
INSERT INTO public.params VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'grid', 1, '{"fold": 1, "keep": [1, 2]}', NULL, 2);
INSERT INTO public.params VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'alpha', 1, '1.0', 1, 3);
INSERT INTO public.params VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'solver', 1, '"auto"', NULL, 3);
INSERT INTO public.params VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'grid', 1, '{"fold": 2, "keep": [1, 2]}', NULL, 3);
INSERT INTO public.params VALUES ('6cc7234e-b929-415a-9540-fb79f2911182', 'kernel', 2, '"rbf"', NULL, 1);
INSERT INTO public.params VALUES ('6cc7234e-b929-415a-9540-fb79f2911182', 'C', 2, '9.0', 9, 1);
INSERT INTO public.params VALUES ('356778e2-6ca7-482f-a8f9-b051ab4911fa', 'kernel', 2, '"rbf"', NULL, 2);
INSERT INTO public.params VALUES ('356778e2-6ca7-482f-a8f9-b051ab4911fa', 'C', 2, '9.6', 9.6, 2);


--
-- Data for Name: run_properties; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.run_properties VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'ray.trial_id', 'trial_00000', 1);
INSERT INTO public.run_properties VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'ray.trial_id', 'trial_00001', 1);
INSERT INTO public.run_properties VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'ray.trial_id', 'trial_00002', 1);


--
-- Data for Name: run_tags; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.run_tags VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'cell', '0');
INSERT INTO public.run_tags VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 'flagged', '');
INSERT INTO public.run_tags VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'cell', '1');
INSERT INTO public.run_tags VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 'flagged', '');
INSERT INTO public.run_tags VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'cell', '2');
INSERT INTO public.run_tags VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 'flagged', '');


--
-- Data for Name: runs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.runs VALUES ('ddd37e94-a794-4296-94df-08170adad3d4', 1, 1, 'Completed', 'alpha 0.1', '2026-11-30 09:39:55.567186+00', '2026-11-30 09:39:55.771683+00', NULL);
INSERT INTO public.runs VALUES ('8d7ad89b-a2c5-46cc-9e4b-7da2756413c3', 1, 2, 'Completed', 'alpha 0.5', '2026-11-30 09:39:55.783454+00', '2026-11-30 09:39:55.92866+00', NULL);
INSERT INTO public.runs VALUES ('9ceb84e9-6448-4cde-9491-234e67f78d57', 1, 3, 'Completed', 'alpha 1.0', '2026-11-30 09:39:55.934259+00', '2026-11-30 09:39:56.090714+00', NULL);
INSERT INTO public.runs VALUES ('2a0bb887-b087-45ca-ac0a-394d503258c6', 1, 4, 'Failed', 'broken', '2026-11-30 09:39:56.097845+00', '2026-11-30 09:39:56.112529+00', 'ValueError: ''lbfgs'' solver can be used only when positive=True');
INSERT INTO public.runs VALUES ('c3787688-c6df-4581-a088-3d68d38a49bf', 1, 5, 'Canceled', 'stopped', '2026-11-30 09:39:56.119342+00', '2026-11-30 09:39:56.133354+00', NULL);
INSERT INTO public.runs VALUES ('f8250ba2-eb83-4416-90d2-8ba111974bd2', 1, 6, 'Running', 'still-running', '2026-11-30 09:39:56.140451+00', NULL, NULL);
INSERT INTO public.runs VALUES ('6cc7234e-b929-415a-9540-fb79f2911182', 2, 1, 'Completed', NULL, '2026-11-30 09:39:56.175637+00', '2026-11-30 09:39:56.215777+00', NULL);
INSERT INTO public.runs VALUES ('356778e2-6ca7-482f-a8f9-b051ab4911fa', 2, 2, 'Completed', NULL, '2026-11-30 09:39:56.224838+00', '2026-11-30 09:39:56.259228+00', NULL);


--
-- Name: experiments_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.experiments_id_seq', 2, true);


--
-- Name: experiment_columns experiment_columns_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.experiment_columns
    ADD CONSTRAINT experiment_columns_pkey PRIMARY KEY (experiment_id, kind, name);


--
-- Name: experiments experiments_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.experiments
    ADD CONSTRAINT experiments_name_key UNIQUE (name);


--
-- Name: experiments experiments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.experiments
    ADD CONSTRAINT experiments_pkey PRIMARY KEY (id);


--
-- Name: files files_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.files
    ADD CONSTRAINT files_pkey PRIMARY KEY (run_id, name);


--
-- Name: meta meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.meta
    ADD CONSTRAINT meta_pkey PRIMARY KEY (key);


--
-- Name: metric_summaries metric_summaries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.metric_summaries
    ADD CONSTRAINT metric_summaries_pkey PRIMARY KEY (run_id, name);


--
-- Name: metrics metrics_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.metrics
    ADD CONSTRAINT metrics_pkey PRIMARY KEY (run_id, name, step);


--
-- Name: params params_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.params
    ADD CONSTRAINT params_pkey PRIMARY KEY (run_id, key);


--
-- Name: run_properties run_properties_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.run_properties
    ADD CONSTRAINT run_properties_pkey PRIMARY KEY (run_id, key);


--
-- Name: run_tags run_tags_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.run_tags
    ADD CONSTRAINT run_tags_pkey PRIMARY KEY (run_id, key);


--
-- Name: runs runs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT runs_pkey PRIMARY KEY (run_id);


--
-- Name: runs uq_runs_experiment_number; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT uq_runs_experiment_number UNIQUE (experiment_id, number);


--
-- Name: ix_metric_summaries_chart; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_metric_summaries_chart ON public.metric_summaries USING btree (experiment_id, name, number, last, last_special);


--
-- Name: ix_metric_summaries_sort; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_metric_summaries_sort ON public.metric_summaries USING btree (experiment_id, name, last, run_id);


--
-- Name: ix_params_chart; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_params_chart ON public.params USING btree (experiment_id, key, number, value_num);


--
-- Name: ix_params_sort; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_params_sort ON public.params USING btree (experiment_id, key, value_num, run_id);


--
-- Name: ix_run_properties_lookup; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_run_properties_lookup ON public.run_properties USING btree (experiment_id, key, value);


--
-- Name: ix_runs_experiment_end; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_runs_experiment_end ON public.runs USING btree (experiment_id, end_time);


--
-- Name: ix_runs_experiment_start; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_runs_experiment_start ON public.runs USING btree (experiment_id, start_time);


--
-- Name: ix_runs_experiment_status_number; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_runs_experiment_status_number ON public.runs USING btree (experiment_id, status, number);


--
-- Name: experiment_columns experiment_columns_experiment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.experiment_columns
    ADD CONSTRAINT experiment_columns_experiment_id_fkey FOREIGN KEY (experiment_id) REFERENCES public.experiments(id);


--
-- Name: files files_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.files
    ADD CONSTRAINT files_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.runs(run_id);


--
-- Name: metric_summaries metric_summaries_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.metric_summaries
    ADD CONSTRAINT metric_summaries_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.runs(run_id);


--
-- Name: metrics metrics_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.metrics
    ADD CONSTRAINT metrics_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.runs(run_id);


--
-- Name: params params_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.params
    ADD CONSTRAINT params_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.runs(run_id);


--
-- Name: run_properties run_properties_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.run_properties
    ADD CONSTRAINT run_properties_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.runs(run_id);


--
-- Name: run_tags run_tags_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.run_tags
    ADD CONSTRAINT run_tags_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.runs(run_id);


--
-- Name: runs runs_experiment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT runs_experiment_id_fkey FOREIGN KEY (experiment_id) REFERENCES public.experiments(id);


--
-- PostgreSQL database dump complete
--


