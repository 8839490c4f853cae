"""PostgreSQL: one call grants sends for several waiting threads at once

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 20:20:00.000000
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# `orderwire_next_grant` and `orderwire_grants_at` are `next_grant` and `grants_at` of
# `orderwire.app.sending` in SQL (a property test holds them equal). Sends granted together share one
# moment; the next grant is spaced by their number.
NEXT_GRANT = """
CREATE OR REPLACE FUNCTION orderwire_next_grant(
    granted double precision[], now_s double precision, rate integer, pacing_window double precision
) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    WITH recent AS (
        SELECT t, row_number() OVER (ORDER BY t DESC) AS back
        FROM unnest(granted) AS t WHERE t > now_s - pacing_window
    )
    SELECT coalesce(  -- greatest() skips NULLs: fewer than `rate` recent grants, or none at all
        greatest(
            (SELECT max(t) + count(*) FILTER (WHERE t = (SELECT max(t) FROM recent))::float8 / rate
             FROM recent),
            (SELECT t + pacing_window FROM recent WHERE back = rate)
        ),
        now_s
    )
$$
"""

GRANTS_AT = """
CREATE OR REPLACE FUNCTION orderwire_grants_at(
    granted double precision[], now_s double precision, rate integer, pacing_window double precision,
    wanted integer
) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN orderwire_next_grant(granted, now_s, rate, pacing_window) > now_s THEN 0
        ELSE greatest(0, least(
            wanted, rate - (SELECT count(*) FROM unnest(granted) AS t WHERE t > now_s - pacing_window)
        ))
    END::integer
$$
"""

# One call grants up to `wanted` sends at the database's present moment, or says how long to wait: the
# row is locked, the clock read after the lock, and the commit is not flushed (a lost pacing write costs
# nothing).
SEND_GRANTS = """
CREATE OR REPLACE FUNCTION orderwire_send_grants(
    pacer text, rate integer, pacing_window double precision, wanted integer,
    OUT sends integer, OUT pause double precision
) LANGUAGE plpgsql AS $$
DECLARE
    moments double precision[];
    now_s double precision;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT ARRAY(SELECT jsonb_array_elements_text(p.granted)::double precision) INTO moments
    FROM send_pacing AS p WHERE p.name = pacer FOR UPDATE;
    IF NOT FOUND THEN  -- never grant unpaced: the row is made when the pacer starts
        RAISE EXCEPTION 'no send_pacing row named %', pacer;
    END IF;
    now_s := extract(epoch FROM clock_timestamp());
    sends := orderwire_grants_at(moments, now_s, rate, pacing_window, wanted);
    IF sends = 0 THEN
        pause := orderwire_next_grant(moments, now_s, rate, pacing_window) - now_s;
        RETURN;
    END IF;
    pause := 0;
    UPDATE send_pacing
    SET granted = to_jsonb(
        ARRAY(SELECT t FROM unnest(moments) AS t WHERE t > now_s - pacing_window)
        || array_fill(now_s, ARRAY[sends])
    )
    WHERE name = pacer;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NEXT_GRANT)
        op.execute(GRANTS_AT)
        op.execute(SEND_GRANTS)
        # 0013's `orderwire_send_grant` stays: processes of the previous release keep sending through it
        # while a rolling upgrade runs (it grants one at a time by the same, now batch-aware, rule).


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION orderwire_send_grants(text, integer, double precision, integer)")
        op.execute("DROP FUNCTION orderwire_grants_at(float8[], float8, integer, float8, integer)")
        _revision_0013().upgrade()  # its one-at-a-time functions, as they were


def _revision_0013() -> ModuleType:
    """Migration 0013's module (the versions folder is not a package)."""
    path = Path(__file__).with_name("0013_send_grant_function.py")
    spec = importlib.util.spec_from_file_location("orderwire_migration_0013", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
