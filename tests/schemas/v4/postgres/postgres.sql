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
    error text,
    heartbeat_at timestamp with time zone
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

INSERT INTO public.experiments VALUES (1, 'diabetes-experiment', '2026-11-30 09:40:00.081464+00', 6, '2026-11-30 09:40:00.621003+00', 'rmse', 'min');
INSERT INTO public.experiments VALUES (2, 'iris', '2026-11-30 09:40:00.644018+00', 2, '2026-11-30 09:40:00.713197+00', 'accuracy', 'max');


--
-- Data for Name: files; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.files VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'model_alpha_0.1.pkl', 'file:///tmp/raysweep-schema-v4/postgres/storage/runs/408c619f-1f7b-4cb5-b21b-33ac4e577d0b/model_alpha_0.1.pkl', 9, '85f00a6d6e885be1a220fc5548bf11beab4365fefdbdbc9080148afe8a86a449', '2026-11-30 09:40:00.251068+00');
INSERT INTO public.files VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'outputs/notes.txt', 'file:///tmp/raysweep-schema-v4/postgres/storage/runs/408c619f-1f7b-4cb5-b21b-33ac4e577d0b/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 09:40:00.27406+00');
INSERT INTO public.files VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'model_alpha_0.5.pkl', 'file:///tmp/raysweep-schema-v4/postgres/storage/runs/2603fe1c-edc5-4440-8767-4041ec426213/model_alpha_0.5.pkl', 9, '9d05e9b2cbba2420dd8460a53d0f786ef6a26d650456dc1b7a64b0993d832d1b', '2026-11-30 09:40:00.41203+00');
INSERT INTO public.files VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'outputs/notes.txt', 'file:///tmp/raysweep-schema-v4/postgres/storage/runs/2603fe1c-edc5-4440-8767-4041ec426213/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 09:40:00.431514+00');
INSERT INTO public.files VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'model_alpha_1.0.pkl', 'file:///tmp/raysweep-schema-v4/postgres/storage/runs/ce457381-d2ab-4fae-b500-cbd6c4f2c1c3/model_alpha_1.0.pkl', 9, '24c4120362d41ba784bb84c3164e6ac99f99ff4abe9162d79265a66f8c8b5c49', '2026-11-30 09:40:00.563387+00');
INSERT INTO public.files VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'outputs/notes.txt', 'file:///tmp/raysweep-schema-v4/postgres/storage/runs/ce457381-d2ab-4fae-b500-cbd6c4f2c1c3/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 09:40:00.58336+00');


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('schema_version', '4');


--
-- Data for Name: metric_summaries; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.metric_summaries VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'alpha_value', 1, 1, 0.1, NULL, 0.1, 0.1, 1);
INSERT INTO public.metric_summaries VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'rmse', 1, 1, 57, NULL, 57, 57, 1);
INSERT INTO public.metric_summaries VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'loss', 1, 1, 1, NULL, 1, 3, 4);
INSERT INTO public.metric_summaries VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'ratio', 1, 1, 0, NULL, 0, 0, 1);
INSERT INTO public.metric_summaries VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'alpha_value', 1, 2, 0.5, NULL, 0.5, 0.5, 1);
INSERT INTO public.metric_summaries VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'rmse', 1, 2, 57.5, NULL, 57.5, 57.5, 1);
INSERT INTO public.metric_summaries VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'loss', 1, 2, 1, NULL, 1, 2, 4);
INSERT INTO public.metric_summaries VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'ratio', 1, 2, NULL, 'inf', NULL, NULL, 1);
INSERT INTO public.metric_summaries VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'alpha_value', 1, 3, 1, NULL, 1, 1, 1);
INSERT INTO public.metric_summaries VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'rmse', 1, 3, 58, NULL, 58, 58, 1);
INSERT INTO public.metric_summaries VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'loss', 1, 3, 1, NULL, 0.5, 1, 4);
INSERT INTO public.metric_summaries VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'ratio', 1, 3, 0.5, NULL, 0.5, 0.5, 1);
INSERT INTO public.metric_summaries VALUES ('019a994d-db01-4c76-93ba-88ac5dfb15b9', 'rmse', 1, 4, NULL, 'nan', NULL, NULL, 1);
INSERT INTO public.metric_summaries VALUES ('190a5832-1089-4d21-a288-4cc7595890f0', 'rmse', 1, 5, 80, NULL, 80, 80, 1);
INSERT INTO public.metric_summaries VALUES ('b1a7cb0d-2994-47bc-aa60-bf3b6297c2d6', 'rmse', 1, 6, 70, NULL, 70, 70, 1);
INSERT INTO public.metric_summaries VALUES ('c2f0e7fd-17ae-4493-a959-6f9e3850b252', 'accuracy', 2, 1, 0.9, NULL, 0.9, 0.9, 1);
INSERT INTO public.metric_summaries VALUES ('cc38c077-abde-4a63-b5b7-50ae23d21fbe', 'accuracy', 2, 2, 0.96, NULL, 0.96, 0.96, 1);


--
-- Data for Name: metrics; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.metrics VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'alpha_value', 0, 0.1, NULL, '2026-11-30 09:40:00.113022+00');
INSERT INTO public.metrics VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'rmse', 0, 57, NULL, '2026-11-30 09:40:00.137543+00');
INSERT INTO public.metrics VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'loss', 0, 3, NULL, '2026-11-30 09:40:00.149117+00');
INSERT INTO public.metrics VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'loss', 1, 2.5, NULL, '2026-11-30 09:40:00.149117+00');
INSERT INTO public.metrics VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'loss', 2, NULL, 'nan', '2026-11-30 09:40:00.149117+00');
INSERT INTO public.metrics VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'loss', 3, 1, NULL, '2026-11-30 09:40:00.149117+00');
INSERT INTO public.metrics VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'ratio', 0, 0, NULL, '2026-11-30 09:40:00.160533+00');
INSERT INTO public.metrics VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'alpha_value', 0, 0.5, NULL, '2026-11-30 09:40:00.300564+00');
INSERT INTO public.metrics VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'rmse', 0, 57.5, NULL, '2026-11-30 09:40:00.307858+00');
INSERT INTO public.metrics VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'loss', 0, 2, NULL, '2026-11-30 09:40:00.315843+00');
INSERT INTO public.metrics VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'loss', 1, 1.5, NULL, '2026-11-30 09:40:00.315843+00');
INSERT INTO public.metrics VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'loss', 2, NULL, 'nan', '2026-11-30 09:40:00.315843+00');
INSERT INTO public.metrics VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'loss', 3, 1, NULL, '2026-11-30 09:40:00.315843+00');
INSERT INTO public.metrics VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'ratio', 0, NULL, 'inf', '2026-11-30 09:40:00.327736+00');
INSERT INTO public.metrics VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'alpha_value', 0, 1, NULL, '2026-11-30 09:40:00.454756+00');
INSERT INTO public.metrics VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'rmse', 0, 58, NULL, '2026-11-30 09:40:00.464937+00');
INSERT INTO public.metrics VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'loss', 0, 1, NULL, '2026-11-30 09:40:00.47474+00');
INSERT INTO public.metrics VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'loss', 1, 0.5, NULL, '2026-11-30 09:40:00.47474+00');
INSERT INTO public.metrics VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'loss', 2, NULL, 'nan', '2026-11-30 09:40:00.47474+00');
INSERT INTO public.metrics VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'loss', 3, 1, NULL, '2026-11-30 09:40:00.47474+00');
INSERT INTO public.metrics VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'ratio', 0, 0.5, NULL, '2026-11-30 09:40:00.487607+00');
INSERT INTO public.metrics VALUES ('019a994d-db01-4c76-93ba-88ac5dfb15b9', 'rmse', 0, NULL, 'nan', '2026-11-30 09:40:00.597066+00');
INSERT INTO public.metrics VALUES ('190a5832-1089-4d21-a288-4cc7595890f0', 'rmse', 0, 80, NULL, '2026-11-30 09:40:00.610965+00');
INSERT INTO public.metrics VALUES ('b1a7cb0d-2994-47bc-aa60-bf3b6297c2d6', 'rmse', 0, 70, NULL, '2026-11-30 09:40:00.6286+00');
INSERT INTO public.metrics VALUES ('c2f0e7fd-17ae-4493-a959-6f9e3850b252', 'accuracy', 0, 0.9, NULL, '2026-11-30 09:40:00.666599+00');
INSERT INTO public.metrics VALUES ('cc38c077-abde-4a63-b5b7-50ae23d21fbe', 'accuracy', 0, 0.96, NULL, '2026-11-30 09:40:00.721085+00');


--
-- Data for Name: params; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.params VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'alpha', 1, '0.1', 0.1, 1);
INSERT INTO public.params VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'solver', 1, '"auto"', NULL, 1);
INSERT INTO public.params VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'grid', 1, '{"fold": 0, "keep": [1, 2]}', NULL, 1);
INSERT INTO public.params VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'alpha', 1, '0.5', 0.5, 2);
INSERT INTO public.params VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'solver', 1, '"auto"', NULL, 2);
INSERT INTO public.params VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'grid', 1, '{"fold": 1, "keep": [1, 2]}', NULL, 2);
INSERT INTO public.params VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'alpha', 1, '1.0', 1, 3);
INSERT INTO public.params VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'solver', 1, '"auto"', NULL, 3);
INSERT INTO public.params VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'grid', 1, '{"fold": 2, "keep": [1, 2]}', NULL, 3);
INSERT INTO public.params VALUES ('c2f0e7fd-17ae-4493-a959-6f9e3850b252', 'kernel', 2, '"rbf"', NULL, 1);
INSERT INTO public.params VALUES ('c2f0e7fd-17ae-4493-a959-6f9e3850b252', 'C', 2, '9.0', 9, 1);
INSERT INTO public.params VALUES ('cc38c077-abde-4a63-b5b7-50ae23d21fbe', 'kernel', 2, '"rbf"', NULL, 2);
INSERT INTO public.params VALUES ('cc38c077-abde-4a63-b5b7-50ae23d21fbe', 'C', 2, '9.6', 9.6, 2);


--
-- Data for Name: run_properties; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.run_properties VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'ray.trial_id', 'trial_00000', 1);
INSERT INTO public.run_properties VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'ray.trial_id', 'trial_00001', 1);
INSERT INTO public.run_properties VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'ray.trial_id', 'trial_00002', 1);


--
-- Data for Name: run_tags; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.run_tags VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'cell', '0');
INSERT INTO public.run_tags VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 'flagged', '');
INSERT INTO public.run_tags VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'cell', '1');
INSERT INTO public.run_tags VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 'flagged', '');
INSERT INTO public.run_tags VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'cell', '2');
INSERT INTO public.run_tags VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 'flagged', '');


--
-- Data for Name: runs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.runs VALUES ('408c619f-1f7b-4cb5-b21b-33ac4e577d0b', 1, 1, 'Completed', 'alpha 0.1', '2026-11-30 09:40:00.09787+00', '2026-11-30 09:40:00.283631+00', NULL, '2026-11-30 09:40:00.09787+00');
INSERT INTO public.runs VALUES ('2603fe1c-edc5-4440-8767-4041ec426213', 1, 2, 'Completed', 'alpha 0.5', '2026-11-30 09:40:00.291599+00', '2026-11-30 09:40:00.44047+00', NULL, '2026-11-30 09:40:00.291599+00');
INSERT INTO public.runs VALUES ('ce457381-d2ab-4fae-b500-cbd6c4f2c1c3', 1, 3, 'Completed', 'alpha 1.0', '2026-11-30 09:40:00.445933+00', '2026-11-30 09:40:00.590758+00', NULL, '2026-11-30 09:40:00.445933+00');
INSERT INTO public.runs VALUES ('019a994d-db01-4c76-93ba-88ac5dfb15b9', 1, 4, 'Failed', 'broken', '2026-11-30 09:40:00.594055+00', '2026-11-30 09:40:00.604141+00', 'ValueError: ''lbfgs'' solver can be used only when positive=True', '2026-11-30 09:40:00.594055+00');
INSERT INTO public.runs VALUES ('190a5832-1089-4d21-a288-4cc7595890f0', 1, 5, 'Canceled', 'stopped', '2026-11-30 09:40:00.607339+00', '2026-11-30 09:40:00.61671+00', NULL, '2026-11-30 09:40:00.607339+00');
INSERT INTO public.runs VALUES ('b1a7cb0d-2994-47bc-aa60-bf3b6297c2d6', 1, 6, 'Running', 'still-running', '2026-11-30 09:40:00.621003+00', NULL, NULL, '2026-11-30 09:40:00.621003+00');
INSERT INTO public.runs VALUES ('c2f0e7fd-17ae-4493-a959-6f9e3850b252', 2, 1, 'Completed', NULL, '2026-11-30 09:40:00.661251+00', '2026-11-30 09:40:00.705711+00', NULL, '2026-11-30 09:40:00.661251+00');
INSERT INTO public.runs VALUES ('cc38c077-abde-4a63-b5b7-50ae23d21fbe', 2, 2, 'Completed', NULL, '2026-11-30 09:40:00.713197+00', '2026-11-30 09:40:00.7464+00', NULL, '2026-11-30 09:40:00.713197+00');


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
-- Name: ix_runs_status_heartbeat; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_runs_status_heartbeat ON public.runs USING btree (status, heartbeat_at);


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


