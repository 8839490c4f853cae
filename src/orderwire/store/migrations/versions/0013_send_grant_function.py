"""PostgreSQL: a send is granted in one statement (a function), not a five-round-trip transaction

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 17:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# `orderwire_next_grant` is `orderwire.app.sending.next_grant` in SQL (a property test holds them equal):
# when the next send may go, given the moments granted in the last `pacing_window` seconds.
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
            (SELECT t + 1.0 / rate FROM recent WHERE back = 1),
            (SELECT t + pacing_window FROM recent WHERE back = rate)
        ),
        now_s
    )
$$
"""

# One call grants a send at the database's present moment or says how long to wait: the row is locked,
# the clock read after the lock, and the commit is not flushed (a lost pacing write costs nothing).
SEND_GRANT = """
CREATE OR REPLACE FUNCTION orderwire_send_grant(
    pacer text, rate integer, pacing_window double precision
) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
    moments double precision[];
    now_s double precision;
    ready double precision;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT ARRAY(SELECT jsonb_array_elements_text(p.granted)::double precision) INTO moments
    FROM send_pacing AS p WHERE p.name = pacer FOR UPDATE;
    IF NOT FOUND THEN  -- never grant unpaced: the row is made when the pacer starts
        RAISE EXCEPTION 'no send_pacing row named %', pacer;
    END IF;
    now_s := extract(epoch FROM clock_timestamp());
    ready := orderwire_next_grant(moments, now_s, rate, pacing_window);
    IF ready > now_s THEN
        RETURN ready - now_s;
    END IF;
    UPDATE send_pacing
    SET granted = to_jsonb(ARRAY(SELECT t FROM unnest(moments) AS t WHERE t > now_s - pacing_window) || now_s)
    WHERE name = pacer;
    RETURN 0;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NEXT_GRANT)
        op.execute(SEND_GRANT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION orderwire_send_grant(text, integer, double precision)")
        op.execute(
            "DROP FUNCTION orderwire_next_grant(double precision[], double precision, integer, float8)"
        )
