"""sql/schema.sql, the generated snapshot of the whole schema, against the migrations applied
to an empty database (t/tools/schema-snapshot makes both texts the same way)."""

import importlib.machinery
import importlib.util
import os

import pytest

import zxinstance

TOOL = os.path.join(zxinstance.SRC_DIR, "t", "tools", "schema-snapshot")


def _load_tool():
    loader = importlib.machinery.SourceFileLoader("schema_snapshot", TOOL)
    spec = importlib.util.spec_from_loader("schema_snapshot", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


snapshot_tool = _load_tool()


def test_snapshot_matches_the_migrations(instance):
    got = snapshot_tool.generate(instance)
    try:
        with open(snapshot_tool.SNAPSHOT) as f:
            want = f.read()
    except FileNotFoundError:
        want = ""
    if got != want:
        pytest.fail("sql/schema.sql differs from the migrations sql/NNN_*.sql applied to an "
                    "empty database:\n%s\nRegenerate it and commit it: %s"
                    % (snapshot_tool.diff(want, got), snapshot_tool.REGENERATE), pytrace=False)


def test_snapshot_says_it_is_generated():
    with open(snapshot_tool.SNAPSHOT) as f:
        top = f.read(2000)
    assert top.startswith("-- zxmobile: the whole database schema.  GENERATED FILE - DO NOT EDIT.")
    assert "t/tools/schema-snapshot" in top


def test_normalise_drops_what_changes_between_runs():
    dump = "\n".join([
        "--",
        "-- PostgreSQL database dump",
        "--",
        "",
        "\\restrict 0aBcDeF",
        "",
        "-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)",
        "-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)",
        "",
        "SET statement_timeout = 0;",
        "SET client_encoding = 'UTF8';",
        "SELECT pg_catalog.set_config('search_path', '', false);",
        "",
        "--",
        "-- Name: t; Type: TABLE; Schema: public; Owner: -",
        "--",
        "",
        "CREATE TABLE public.t (   ",
        "    id bigint NOT NULL",
        ");",
        "",
        "",
        "",
        "--",
        "-- PostgreSQL database dump complete",
        "--",
        "",
        "\\unrestrict 0aBcDeF",
        "",
    ])
    assert snapshot_tool.normalise(dump) == "\n".join([
        "--",
        "-- Name: t; Type: TABLE; Schema: public; Owner: -",
        "--",
        "",
        "CREATE TABLE public.t (",
        "    id bigint NOT NULL",
        ");",
        "",
    ])
