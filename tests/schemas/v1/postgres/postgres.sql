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
    value_num double precision
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

INSERT INTO public.experiments VALUES (1, 'diabetes-experiment', '2026-11-30 09:39:47.636865+00', 6, '2026-11-30 09:39:48.231958+00', 'rmse', 'min');
INSERT INTO public.experiments VALUES (2, 'iris', '2026-11-30 09:39:48.252433+00', 2, '2026-11-30 09:39:48.355225+00', 'accuracy', 'max');


--
-- Data for Name: files; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.files VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'model_alpha_0.1.pkl', 'file:///tmp/raysweep-schema-v1/postgres/storage/runs/54a08369-04ba-4411-a60b-cde6b45a5bc2/model_alpha_0.1.pkl', 9, '85f00a6d6e885be1a220fc5548bf11beab4365fefdbdbc9080148afe8a86a449', '2026-11-30 09:39:47.817745+00');
INSERT INTO public.files VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'outputs/notes.txt', 'file:///tmp/raysweep-schema-v1/postgres/storage/runs/54a08369-04ba-4411-a60b-cde6b45a5bc2/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 09:39:47.843197+00');
INSERT INTO public.files VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'model_alpha_0.5.pkl', 'file:///tmp/raysweep-schema-v1/postgres/storage/runs/bebc356a-98be-40b2-a6bb-16cf1d5048ef/model_alpha_0.5.pkl', 9, '9d05e9b2cbba2420dd8460a53d0f786ef6a26d650456dc1b7a64b0993d832d1b', '2026-11-30 09:39:47.982449+00');
INSERT INTO public.files VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'outputs/notes.txt', 'file:///tmp/raysweep-schema-v1/postgres/storage/runs/bebc356a-98be-40b2-a6bb-16cf1d5048ef/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 09:39:48.00646+00');
INSERT INTO public.files VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'model_alpha_1.0.pkl', 'file:///tmp/raysweep-schema-v1/postgres/storage/runs/565b8c01-a47a-4a82-9ac6-a2120b165eda/model_alpha_1.0.pkl', 9, '24c4120362d41ba784bb84c3164e6ac99f99ff4abe9162d79265a66f8c8b5c49', '2026-11-30 09:39:48.143614+00');
INSERT INTO public.files VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'outputs/notes.txt', 'file:///tmp/raysweep-schema-v1/postgres/storage/runs/565b8c01-a47a-4a82-9ac6-a2120b165eda/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 09:39:48.164923+00');


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('schema_version', '1');


--
-- Data for Name: metric_summaries; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.metric_summaries VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'alpha_value', 1, 0.1, NULL, 0.1, 0.1, 1);
INSERT INTO public.metric_summaries VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'rmse', 1, 57, NULL, 57, 57, 1);
INSERT INTO public.metric_summaries VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'loss', 1, 1, NULL, 1, 3, 4);
INSERT INTO public.metric_summaries VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'ratio', 1, 0, NULL, 0, 0, 1);
INSERT INTO public.metric_summaries VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'alpha_value', 1, 0.5, NULL, 0.5, 0.5, 1);
INSERT INTO public.metric_summaries VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'rmse', 1, 57.5, NULL, 57.5, 57.5, 1);
INSERT INTO public.metric_summaries VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'loss', 1, 1, NULL, 1, 2, 4);
INSERT INTO public.metric_summaries VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'ratio', 1, NULL, 'inf', NULL, NULL, 1);
INSERT INTO public.metric_summaries VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'alpha_value', 1, 1, NULL, 1, 1, 1);
INSERT INTO public.metric_summaries VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'rmse', 1, 58, NULL, 58, 58, 1);
INSERT INTO public.metric_summaries VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'loss', 1, 1, NULL, 0.5, 1, 4);
INSERT INTO public.metric_summaries VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'ratio', 1, 0.5, NULL, 0.5, 0.5, 1);
INSERT INTO public.metric_summaries VALUES ('0d4d0e32-6905-44c8-9769-62c6d3b0682c', 'rmse', 1, NULL, 'nan', NULL, NULL, 1);
INSERT INTO public.metric_summaries VALUES ('d013d909-1223-4362-b8f2-efb465c094f8', 'rmse', 1, 80, NULL, 80, 80, 1);
INSERT INTO public.metric_summaries VALUES ('3552d721-92ce-4948-8f10-781a90993c9b', 'rmse', 1, 70, NULL, 70, 70, 1);
INSERT INTO public.metric_summaries VALUES ('ba1ec7fc-507c-4ad1-be49-91956d048fe3', 'accuracy', 2, 0.9, NULL, 0.9, 0.9, 1);
INSERT INTO public.metric_summaries VALUES ('4f6a1d29-7c0d-4afb-820b-5a60cbda8792', 'accuracy', 2, 0.96, NULL, 0.96, 0.96, 1);


--
-- Data for Name: metrics; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.metrics VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'alpha_value', 0, 0.1, NULL, '2026-11-30 09:39:47.666493+00');
INSERT INTO public.metrics VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'rmse', 0, 57, NULL, '2026-11-30 09:39:47.688951+00');
INSERT INTO public.metrics VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'loss', 0, 3, NULL, '2026-11-30 09:39:47.701916+00');
INSERT INTO public.metrics VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'loss', 1, 2.5, NULL, '2026-11-30 09:39:47.701916+00');
INSERT INTO public.metrics VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'loss', 2, NULL, 'nan', '2026-11-30 09:39:47.701916+00');
INSERT INTO public.metrics VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'loss', 3, 1, NULL, '2026-11-30 09:39:47.701916+00');
INSERT INTO public.metrics VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'ratio', 0, 0, NULL, '2026-11-30 09:39:47.720645+00');
INSERT INTO public.metrics VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'alpha_value', 0, 0.5, NULL, '2026-11-30 09:39:47.866499+00');
INSERT INTO public.metrics VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'rmse', 0, 57.5, NULL, '2026-11-30 09:39:47.874615+00');
INSERT INTO public.metrics VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'loss', 0, 2, NULL, '2026-11-30 09:39:47.888929+00');
INSERT INTO public.metrics VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'loss', 1, 1.5, NULL, '2026-11-30 09:39:47.888929+00');
INSERT INTO public.metrics VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'loss', 2, NULL, 'nan', '2026-11-30 09:39:47.888929+00');
INSERT INTO public.metrics VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'loss', 3, 1, NULL, '2026-11-30 09:39:47.888929+00');
INSERT INTO public.metrics VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'ratio', 0, NULL, 'inf', '2026-11-30 09:39:47.902146+00');
INSERT INTO public.metrics VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'alpha_value', 0, 1, NULL, '2026-11-30 09:39:48.031252+00');
INSERT INTO public.metrics VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'rmse', 0, 58, NULL, '2026-11-30 09:39:48.040134+00');
INSERT INTO public.metrics VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'loss', 0, 1, NULL, '2026-11-30 09:39:48.052504+00');
INSERT INTO public.metrics VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'loss', 1, 0.5, NULL, '2026-11-30 09:39:48.052504+00');
INSERT INTO public.metrics VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'loss', 2, NULL, 'nan', '2026-11-30 09:39:48.052504+00');
INSERT INTO public.metrics VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'loss', 3, 1, NULL, '2026-11-30 09:39:48.052504+00');
INSERT INTO public.metrics VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'ratio', 0, 0.5, NULL, '2026-11-30 09:39:48.065744+00');
INSERT INTO public.metrics VALUES ('0d4d0e32-6905-44c8-9769-62c6d3b0682c', 'rmse', 0, NULL, 'nan', '2026-11-30 09:39:48.188765+00');
INSERT INTO public.metrics VALUES ('d013d909-1223-4362-b8f2-efb465c094f8', 'rmse', 0, 80, NULL, '2026-11-30 09:39:48.214188+00');
INSERT INTO public.metrics VALUES ('3552d721-92ce-4948-8f10-781a90993c9b', 'rmse', 0, 70, NULL, '2026-11-30 09:39:48.239014+00');
INSERT INTO public.metrics VALUES ('ba1ec7fc-507c-4ad1-be49-91956d048fe3', 'accuracy', 0, 0.9, NULL, '2026-11-30 09:39:48.275344+00');
INSERT INTO public.metrics VALUES ('4f6a1d29-7c0d-4afb-820b-5a60cbda8792', 'accuracy', 0, 0.96, NULL, '2026-11-30 09:39:48.327487+00');


--
-- Data for Name: params; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.params VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'alpha', 1, '0.1', 0.1);
INSERT INTO public.params VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'solver', 1, '"auto"', NULL);
INSERT INTO public.params VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'grid', 1, '{"fold": 0, "keep": [1, 2]}', NULL);
INSERT INTO public.params VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'alpha', 1, '0.5', 0.5);
INSERT INTO public.params VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'solver', 1, '"auto"', NULL);
INSERT INTO public.params VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'grid', 1, '{"fold": 1, "keep": [1, 2]}', NULL);
INSERT INTO public.params VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'alpha', 1, '1.0', 1);
INSERT INTO public.params VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'solver', 1, '"auto"', NULL);
INSERT INTO public.params VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'grid', 1, '{"fold": 2, "keep": [1, 2]}', NULL);
INSERT INTO public.params VALUES ('ba1ec7fc-507c-4ad1-be49-91956d048fe3', 'kernel', 2, '"rbf"', NULL);
INSERT INTO public.params VALUES ('ba1ec7fc-507c-4ad1-be49-91956d048fe3', 'C', 2, '9.0', 9);
INSERT INTO public.params VALUES ('4f6a1d29-7c0d-4afb-820b-5a60cbda8792', 'kernel', 2, '"rbf"', NULL);
INSERT INTO public.params VALUES ('4f6a1d29-7c0d-4afb-820b-5a60cbda8792', 'C', 2, '9.6', 9.6);


--
-- Data for Name: run_properties; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.run_properties VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'ray.trial_id', 'trial_00000', 1);
INSERT INTO public.run_properties VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'ray.trial_id', 'trial_00001', 1);
INSERT INTO public.run_properties VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'ray.trial_id', 'trial_00002', 1);


--
-- Data for Name: run_tags; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.run_tags VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'cell', '0');
INSERT INTO public.run_tags VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 'flagged', '');
INSERT INTO public.run_tags VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'cell', '1');
INSERT INTO public.run_tags VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 'flagged', '');
INSERT INTO public.run_tags VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'cell', '2');
INSERT INTO public.run_tags VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 'flagged', '');


--
-- Data for Name: runs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.runs VALUES ('54a08369-04ba-4411-a60b-cde6b45a5bc2', 1, 1, 'Completed', 'alpha 0.1', '2026-11-30 09:39:47.65325+00', '2026-11-30 09:39:47.850026+00', NULL);
INSERT INTO public.runs VALUES ('bebc356a-98be-40b2-a6bb-16cf1d5048ef', 1, 2, 'Completed', 'alpha 0.5', '2026-11-30 09:39:47.858217+00', '2026-11-30 09:39:48.014759+00', NULL);
INSERT INTO public.runs VALUES ('565b8c01-a47a-4a82-9ac6-a2120b165eda', 1, 3, 'Completed', 'alpha 1.0', '2026-11-30 09:39:48.02118+00', '2026-11-30 09:39:48.173753+00', NULL);
INSERT INTO public.runs VALUES ('0d4d0e32-6905-44c8-9769-62c6d3b0682c', 1, 4, 'Failed', 'broken', '2026-11-30 09:39:48.18147+00', '2026-11-30 09:39:48.198323+00', 'ValueError: ''lbfgs'' solver can be used only when positive=True');
INSERT INTO public.runs VALUES ('d013d909-1223-4362-b8f2-efb465c094f8', 1, 5, 'Canceled', 'stopped', '2026-11-30 09:39:48.206909+00', '2026-11-30 09:39:48.222682+00', NULL);
INSERT INTO public.runs VALUES ('3552d721-92ce-4948-8f10-781a90993c9b', 1, 6, 'Running', 'still-running', '2026-11-30 09:39:48.231958+00', NULL, NULL);
INSERT INTO public.runs VALUES ('ba1ec7fc-507c-4ad1-be49-91956d048fe3', 2, 1, 'Completed', NULL, '2026-11-30 09:39:48.269205+00', '2026-11-30 09:39:48.310291+00', NULL);
INSERT INTO public.runs VALUES ('4f6a1d29-7c0d-4afb-820b-5a60cbda8792', 2, 2, 'Completed', NULL, '2026-11-30 09:39:48.320487+00', '2026-11-30 09:39:48.355225+00', NULL);


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
-- Name: ix_metric_summaries_sort; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_metric_summaries_sort ON public.metric_summaries USING btree (experiment_id, name, last, run_id);


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


