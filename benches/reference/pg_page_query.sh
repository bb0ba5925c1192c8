#!/bin/bash
# What PostgreSQL's backends spend on an exam page's one query, without the server: pgbench
# runs the query `store::attempts::candidate_attempt` sends (same joins, columns and
# subqueries; a real session's token) against a database the pages bench has filled, at fixed
# rates, and the CPU of every `postgres` process over the middle of each run is divided by the
# queries answered. Compare a rate near the pages bench's PostgreSQL pages/s with a high one:
# the same query costs the backend more CPU the more the cores idle between queries.
#
#   PAGES_DATABASE_URL=postgres://postgres@127.0.0.1:5432/pagesbench cargo bench --bench pages
#   bash benches/reference/pg_page_query.sh pagesbench 4500 20000
#
# Needs pgbench, psql and bc; PostgreSQL on 127.0.0.1:5432 (user postgres). Reads only.
# The SQL below restates `candidate_attempt`'s (with `reg_sitting_columns`): when that query
# changes, change it here too, or the figures are of a query the server no longer sends.
set -euo pipefail
db=${1:?database name (filled by the pages bench)}
shift
rates=("${@:-4500 20000}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
psql() { command psql -h 127.0.0.1 -U postgres -d "$db" -Atq "$@"; }
token=$(psql -c "SELECT token_hash FROM sessions ORDER BY token_hash LIMIT 1")
[ -n "$token" ] || { echo "$db: no sessions; run the pages bench on it first" >&2; exit 1; }
now=$(date +%s%3N)
cat > "$work/page.sql" <<EOF
\set now $now
\set part 1
SELECT r.id, r.sitting_id, r.access_code_id, r.name, r.email, r.organisation, r.level,
       r.blueprint_id, r.sits_part_one, r.sits_part_two, r.multiplier_permille, r.extra_breaks,
       r.retake_override, r.admitted_at, r.admitted_by, r.active_session, r.absent_at,
       r.absent_by, r.breaks_taken, si.name AS s_name, si.place AS s_place,
       si.opens_at AS s_opens_at, si.closes_at AS s_closes_at, si.blueprints AS s_blueprints,
       si.created_by AS s_created_by, si.time_zone AS s_time_zone,
       a.id AS a_id, a.registration_id AS a_registration_id, a.part AS a_part,
       a.started_at AS a_started_at, a.section_ms AS a_section_ms,
       a.multiplier_permille AS a_multiplier_permille, a.added_ms AS a_added_ms,
       a.paused_ms AS a_paused_ms, a.paused_since AS a_paused_since,
       a.chain_head AS a_chain_head, a.chain_len AS a_chain_len,
       (SELECT e.at_ms FROM response_events e WHERE e.attempt_id = a.id ORDER BY e.n DESC LIMIT 1) AS a_last_save_at,
       a.submitted_at AS a_submitted_at, a.submitted_by AS a_submitted_by,
       a.voided_at AS a_voided_at, a.void_reason AS a_void_reason,
       a.paused_by AS a_paused_by, a.max_response_chars AS a_max_response_chars,
       a.break_max_ms AS a_break_max_ms,
       (SELECT e.n FROM response_events e WHERE e.attempt_id = a.id ORDER BY e.n DESC LIMIT 1) AS newest_n
FROM sessions se
JOIN registrations r ON r.access_code_id = se.access_code_id
JOIN sittings si ON si.id = r.sitting_id
LEFT JOIN attempts a ON a.registration_id = r.id AND a.part = :part
WHERE se.token_hash = '$token' AND se.expires_at > :now;
EOF
# CPU ticks (user + system) of every process named postgres.
ticks() {
    local t=0 p s
    for p in $(pgrep -x postgres); do
        s=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
        t=$((t + s))
    done
    echo "$t"
}
hz=$(getconf CLK_TCK)
for rate in ${rates[@]}; do
    pgbench -h 127.0.0.1 -U postgres -n -M prepared -c 16 -j 2 -T 10 -R "$rate" -P 1 \
        -f "$work/page.sql" "$db" > "$work/out" 2>&1 &
    sleep 2.5
    a=$(ticks)
    sleep 6
    b=$(ticks)
    wait
    # Seconds 3-8 of the progress lines, the window the ticks cover.
    tps=$(grep '^progress' "$work/out" | sed -n 3,8p | awk '{s += $4} END {print s / NR}')
    us=$(echo "($b - $a) * 1000000 / $hz / 6 / $tps" | bc -l)
    printf 'rate %s/s: %.0f queries/s answered, PostgreSQL CPU %.0f µs a query\n' "$rate" "$tps" "$us"
done
