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
-- Name: claims; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.claims (
    key character varying(255) NOT NULL,
    holder text NOT NULL,
    lease_until timestamp with time zone NOT NULL,
    acquired_at timestamp with time zone NOT NULL
);


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
-- Name: kv; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.kv (
    namespace character varying(64) NOT NULL,
    key character varying(255) NOT NULL,
    value text NOT NULL,
    updated_at timestamp with time zone NOT NULL
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
-- Data for Name: claims; Type: TABLE DATA; Schema: public; Owner: -
--



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

INSERT INTO public.experiments VALUES (1, 'diabetes-experiment', '2026-11-30 12:19:47.642761+00', 6, '2026-11-30 12:19:48.013818+00', 'rmse', 'min');
INSERT INTO public.experiments VALUES (2, 'iris', '2026-11-30 12:19:48.021765+00', 2, '2026-11-30 12:19:48.047073+00', 'accuracy', 'max');


--
-- Data for Name: files; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.files VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'model_alpha_0.1.pkl', 'runs/9783e39e-11ac-44af-8bf3-62cce9909189/be0f9e616662/model_alpha_0.1.pkl', 9, '85f00a6d6e885be1a220fc5548bf11beab4365fefdbdbc9080148afe8a86a449', '2026-11-30 12:19:47.764922+00');
INSERT INTO public.files VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'outputs/notes.txt', 'runs/9783e39e-11ac-44af-8bf3-62cce9909189/b32d83062852/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 12:19:47.780415+00');
INSERT INTO public.files VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'model_alpha_0.5.pkl', 'runs/bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0/59e16664e855/model_alpha_0.5.pkl', 9, '9d05e9b2cbba2420dd8460a53d0f786ef6a26d650456dc1b7a64b0993d832d1b', '2026-11-30 12:19:47.843752+00');
INSERT INTO public.files VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'outputs/notes.txt', 'runs/bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0/fe7efc100bee/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 12:19:47.865429+00');
INSERT INTO public.files VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'model_alpha_1.0.pkl', 'runs/c96d78ab-90af-4744-adaa-f52a56d5dddf/d03558908085/model_alpha_1.0.pkl', 9, '24c4120362d41ba784bb84c3164e6ac99f99ff4abe9162d79265a66f8c8b5c49', '2026-11-30 12:19:47.942534+00');
INSERT INTO public.files VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'outputs/notes.txt', 'runs/c96d78ab-90af-4744-adaa-f52a56d5dddf/70c32c433afa/outputs/notes.txt', 14, 'b07cd1f72b38b08fa89de1be0bbd3d861349f5edd930afe6ccea0390d69981ba', '2026-11-30 12:19:47.984633+00');


--
-- Data for Name: kv; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('schema_version', '5');


--
-- Data for Name: metric_summaries; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.metric_summaries VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'alpha_value', 1, 1, 0.1, NULL, 0.1, 0.1, 1);
INSERT INTO public.metric_summaries VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'rmse', 1, 1, 57, NULL, 57, 57, 1);
INSERT INTO public.metric_summaries VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'loss', 1, 1, 1, NULL, 1, 3, 4);
INSERT INTO public.metric_summaries VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'ratio', 1, 1, 0, NULL, 0, 0, 1);
INSERT INTO public.metric_summaries VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'alpha_value', 1, 2, 0.5, NULL, 0.5, 0.5, 1);
INSERT INTO public.metric_summaries VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'rmse', 1, 2, 57.5, NULL, 57.5, 57.5, 1);
INSERT INTO public.metric_summaries VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'loss', 1, 2, 1, NULL, 1, 2, 4);
INSERT INTO public.metric_summaries VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'ratio', 1, 2, NULL, 'inf', NULL, NULL, 1);
INSERT INTO public.metric_summaries VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'alpha_value', 1, 3, 1, NULL, 1, 1, 1);
INSERT INTO public.metric_summaries VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'rmse', 1, 3, 58, NULL, 58, 58, 1);
INSERT INTO public.metric_summaries VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'loss', 1, 3, 1, NULL, 0.5, 1, 4);
INSERT INTO public.metric_summaries VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'ratio', 1, 3, 0.5, NULL, 0.5, 0.5, 1);
INSERT INTO public.metric_summaries VALUES ('fc79bea1-c96b-4f9b-9839-fb3c17891790', 'rmse', 1, 4, NULL, 'nan', NULL, NULL, 1);
INSERT INTO public.metric_summaries VALUES ('2c7991e8-03f5-496d-88f7-d6b03b524f44', 'rmse', 1, 5, 80, NULL, 80, 80, 1);
INSERT INTO public.metric_summaries VALUES ('14eaae1d-19f0-4b12-98c1-51b67ee95ec1', 'rmse', 1, 6, 70, NULL, 70, 70, 1);
INSERT INTO public.metric_summaries VALUES ('99a1abf9-83d8-4241-b99a-633fb723f917', 'accuracy', 2, 1, 0.9, NULL, 0.9, 0.9, 1);
INSERT INTO public.metric_summaries VALUES ('d3065025-b3fb-447c-b6cf-8935245e505b', 'accuracy', 2, 2, 0.96, NULL, 0.96, 0.96, 1);


--
-- Data for Name: metrics; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.metrics VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'alpha_value', 0, 0.1, NULL, '2026-11-30 12:19:47.672577+00');
INSERT INTO public.metrics VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'rmse', 0, 57, NULL, '2026-11-30 12:19:47.692629+00');
INSERT INTO public.metrics VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'loss', 0, 3, NULL, '2026-11-30 12:19:47.700809+00');
INSERT INTO public.metrics VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'loss', 1, 2.5, NULL, '2026-11-30 12:19:47.700809+00');
INSERT INTO public.metrics VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'loss', 2, NULL, 'nan', '2026-11-30 12:19:47.700809+00');
INSERT INTO public.metrics VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'loss', 3, 1, NULL, '2026-11-30 12:19:47.700809+00');
INSERT INTO public.metrics VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'ratio', 0, 0, NULL, '2026-11-30 12:19:47.709975+00');
INSERT INTO public.metrics VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'alpha_value', 0, 0.5, NULL, '2026-11-30 12:19:47.7934+00');
INSERT INTO public.metrics VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'rmse', 0, 57.5, NULL, '2026-11-30 12:19:47.797613+00');
INSERT INTO public.metrics VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'loss', 0, 2, NULL, '2026-11-30 12:19:47.801349+00');
INSERT INTO public.metrics VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'loss', 1, 1.5, NULL, '2026-11-30 12:19:47.801349+00');
INSERT INTO public.metrics VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'loss', 2, NULL, 'nan', '2026-11-30 12:19:47.801349+00');
INSERT INTO public.metrics VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'loss', 3, 1, NULL, '2026-11-30 12:19:47.801349+00');
INSERT INTO public.metrics VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'ratio', 0, NULL, 'inf', '2026-11-30 12:19:47.805542+00');
INSERT INTO public.metrics VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'alpha_value', 0, 1, NULL, '2026-11-30 12:19:47.878195+00');
INSERT INTO public.metrics VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'rmse', 0, 58, NULL, '2026-11-30 12:19:47.882137+00');
INSERT INTO public.metrics VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'loss', 0, 1, NULL, '2026-11-30 12:19:47.888251+00');
INSERT INTO public.metrics VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'loss', 1, 0.5, NULL, '2026-11-30 12:19:47.888251+00');
INSERT INTO public.metrics VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'loss', 2, NULL, 'nan', '2026-11-30 12:19:47.888251+00');
INSERT INTO public.metrics VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'loss', 3, 1, NULL, '2026-11-30 12:19:47.888251+00');
INSERT INTO public.metrics VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'ratio', 0, 0.5, NULL, '2026-11-30 12:19:47.895345+00');
INSERT INTO public.metrics VALUES ('fc79bea1-c96b-4f9b-9839-fb3c17891790', 'rmse', 0, NULL, 'nan', '2026-11-30 12:19:47.999255+00');
INSERT INTO public.metrics VALUES ('2c7991e8-03f5-496d-88f7-d6b03b524f44', 'rmse', 0, 80, NULL, '2026-11-30 12:19:48.008652+00');
INSERT INTO public.metrics VALUES ('14eaae1d-19f0-4b12-98c1-51b67ee95ec1', 'rmse', 0, 70, NULL, '2026-11-30 12:19:48.01685+00');
INSERT INTO public.metrics VALUES ('99a1abf9-83d8-4241-b99a-633fb723f917', 'accuracy', 0, 0.9, NULL, '2026-11-30 12:19:48.031395+00');
INSERT INTO public.metrics VALUES ('d3065025-b3fb-447c-b6cf-8935245e505b', 'accuracy', 0, 0.96, NULL, '2026-11-30 12:19:48.049667+00');


--
-- Data for Name: params; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.params VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'alpha', 1, '0.1', 0.1, 1);
INSERT INTO public.params VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'solver', 1, '"auto"', NULL, 1);
INSERT INTO public.params VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'grid', 1, '{"fold": 0, "keep": [1, 2]}', NULL, 1);
INSERT INTO public.params VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'alpha', 1, '0.5', 0.5, 2);
INSERT INTO public.params VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'solver', 1, '"auto"', NULL, 2);
INSERT INTO public.params VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'grid', 1, '{"fold": 1, "keep": [1, 2]}', NULL, 2);
INSERT INTO public.params VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'alpha', 1, '1.0', 1, 3);
INSERT INTO public.params VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'solver', 1, '"auto"', NULL, 3);
INSERT INTO public.params VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'grid', 1, '{"fold": 2, "keep": [1, 2]}', NULL, 3);
INSERT INTO public.params VALUES ('99a1abf9-83d8-4241-b99a-633fb723f917', 'kernel', 2, '"rbf"', NULL, 1);
INSERT INTO public.params VALUES ('99a1abf9-83d8-4241-b99a-633fb723f917', 'C', 2, '9.0', 9, 1);
INSERT INTO public.params VALUES ('d3065025-b3fb-447c-b6cf-8935245e505b', 'kernel', 2, '"rbf"', NULL, 2);
INSERT INTO public.params VALUES ('d3065025-b3fb-447c-b6cf-8935245e505b', 'C', 2, '9.6', 9.6, 2);


--
-- Data for Name: run_properties; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.run_properties VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'user', 'root', 1);
INSERT INTO public.run_properties VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'ray.trial_id', 'trial_00000', 1);
INSERT INTO public.run_properties VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'user', 'root', 1);
INSERT INTO public.run_properties VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'ray.trial_id', 'trial_00001', 1);
INSERT INTO public.run_properties VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'host', 'fixture', 1);
INSERT INTO public.run_properties VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'user', 'root', 1);
INSERT INTO public.run_properties VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'ray.trial_id', 'trial_00002', 1);
INSERT INTO public.run_properties VALUES ('fc79bea1-c96b-4f9b-9839-fb3c17891790', 'host', 'vm', 1);
INSERT INTO public.run_properties VALUES ('fc79bea1-c96b-4f9b-9839-fb3c17891790', 'user', 'root', 1);
INSERT INTO public.run_properties VALUES ('2c7991e8-03f5-496d-88f7-d6b03b524f44', 'host', 'vm', 1);
INSERT INTO public.run_properties VALUES ('2c7991e8-03f5-496d-88f7-d6b03b524f44', 'user', 'root', 1);
INSERT INTO public.run_properties VALUES ('14eaae1d-19f0-4b12-98c1-51b67ee95ec1', 'host', 'vm', 1);
INSERT INTO public.run_properties VALUES ('14eaae1d-19f0-4b12-98c1-51b67ee95ec1', 'user', 'root', 1);
INSERT INTO public.run_properties VALUES ('99a1abf9-83d8-4241-b99a-633fb723f917', 'host', 'vm', 2);
INSERT INTO public.run_properties VALUES ('99a1abf9-83d8-4241-b99a-633fb723f917', 'user', 'root', 2);
INSERT INTO public.run_properties VALUES ('d3065025-b3fb-447c-b6cf-8935245e505b', 'host', 'vm', 2);
INSERT INTO public.run_properties VALUES ('d3065025-b3fb-447c-b6cf-8935245e505b', 'user', 'root', 2);


--
-- Data for Name: run_tags; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.run_tags VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'cell', '0');
INSERT INTO public.run_tags VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 'flagged', '');
INSERT INTO public.run_tags VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'cell', '1');
INSERT INTO public.run_tags VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 'flagged', '');
INSERT INTO public.run_tags VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'team', 'ml');
INSERT INTO public.run_tags VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'cell', '2');
INSERT INTO public.run_tags VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 'flagged', '');


--
-- Data for Name: runs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.runs VALUES ('9783e39e-11ac-44af-8bf3-62cce9909189', 1, 1, 'Completed', 'alpha 0.1', '2026-11-30 12:19:47.658118+00', '2026-11-30 12:19:47.784795+00', NULL, '2026-11-30 12:19:47.658118+00');
INSERT INTO public.runs VALUES ('bff7fa0d-ab6d-4081-a766-ccc3b4f59ea0', 1, 2, 'Completed', 'alpha 0.5', '2026-11-30 12:19:47.788396+00', '2026-11-30 12:19:47.871209+00', NULL, '2026-11-30 12:19:47.788396+00');
INSERT INTO public.runs VALUES ('c96d78ab-90af-4744-adaa-f52a56d5dddf', 1, 3, 'Completed', 'alpha 1.0', '2026-11-30 12:19:47.873603+00', '2026-11-30 12:19:47.992605+00', NULL, '2026-11-30 12:19:47.873603+00');
INSERT INTO public.runs VALUES ('fc79bea1-c96b-4f9b-9839-fb3c17891790', 1, 4, 'Failed', 'broken', '2026-11-30 12:19:47.995481+00', '2026-11-30 12:19:48.002404+00', 'ValueError: ''lbfgs'' solver can be used only when positive=True', '2026-11-30 12:19:47.995481+00');
INSERT INTO public.runs VALUES ('2c7991e8-03f5-496d-88f7-d6b03b524f44', 1, 5, 'Canceled', 'stopped', '2026-11-30 12:19:48.004809+00', '2026-11-30 12:19:48.011715+00', NULL, '2026-11-30 12:19:48.004809+00');
INSERT INTO public.runs VALUES ('14eaae1d-19f0-4b12-98c1-51b67ee95ec1', 1, 6, 'Running', 'still-running', '2026-11-30 12:19:48.013818+00', NULL, NULL, '2026-11-30 12:19:48.013818+00');
INSERT INTO public.runs VALUES ('99a1abf9-83d8-4241-b99a-633fb723f917', 2, 1, 'Completed', NULL, '2026-11-30 12:19:48.02857+00', '2026-11-30 12:19:48.044878+00', NULL, '2026-11-30 12:19:48.02857+00');
INSERT INTO public.runs VALUES ('d3065025-b3fb-447c-b6cf-8935245e505b', 2, 2, 'Completed', NULL, '2026-11-30 12:19:48.047073+00', '2026-11-30 12:19:48.059475+00', NULL, '2026-11-30 12:19:48.047073+00');


--
-- Name: experiments_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.experiments_id_seq', 2, true);


--
-- Name: claims claims_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.claims
    ADD CONSTRAINT claims_pkey PRIMARY KEY (key);


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
-- Name: kv kv_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kv
    ADD CONSTRAINT kv_pkey PRIMARY KEY (namespace, key);


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


