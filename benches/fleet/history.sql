-- A fiscal year of recorded runs, written straight into the tables kuroko's PostgreSQL
-- migrations made (run `kuroko queue list --ledger URL` on the empty database first), the way
-- real runs leave them: `kind = 'run'`, one row per item in `items` (done, or failed with a
-- reason), the run's counts and time saved by kuroko's model (src/timesaved.rs), and
-- `daily_totals` summed from the runs as `finalize` does. psql variables: runs (how many),
-- fy (the fiscal year, April to March). Deterministic: the same arguments give the same rows.
--
-- 12 scenarios in 10 課, 20 robots, 1–5 items a run (3 on average), runs on weekdays from
-- 08:30 for 8 hours; 95 % succeeded, 3 % failed (the last item failed, the run stopped),
-- 1 % aborted, 1 % interrupted; one item in 50 fails for a business reason and the run goes on.

\set ON_ERROR_STOP on
BEGIN;

CREATE TEMP TABLE bench_scenarios (s INT, id TEXT, name TEXT, department TEXT, task TEXT,
    manual DOUBLE PRECISION, human_item DOUBLE PRECISION, human_run DOUBLE PRECISION,
    attended INT, robot_item DOUBLE PRECISION);
INSERT INTO bench_scenarios VALUES
 (0,  'tennyu',    '転入届 入力',      '市民課',       '転入届',       6.0, 0.5, 2.0, 0, 0.6),
 (1,  'tenshutsu', '転出届 入力',      '市民課',       '転出届',       5.0, 0.5, 2.0, 0, 0.5),
 (2,  'juminhyo',  '住民票 照会',      '市民課',       '住民票照会',   3.0, 0.3, 1.0, 0, 0.2),
 (3,  'kokuho',    '国保 資格取得',    '保険年金課',   '国保資格取得', 8.0, 1.0, 3.0, 0, 0.9),
 (4,  'nenkin',    '年金 異動連絡',    '保険年金課',   '年金異動',     4.0, 0.5, 2.0, 0, 0.4),
 (5,  'jidoteate', '児童手当 認定',    '子育て支援課', '児童手当',    10.0, 1.5, 3.0, 0, 1.1),
 (6,  'hoiku',     '保育所 入所申込',  '保育課',       '保育入所',    12.0, 2.0, 5.0, 1, 1.5),
 (7,  'kazei',     '住民税 申告入力',  '市民税課',     '申告入力',     7.0, 0.5, 2.0, 0, 0.7),
 (8,  'kotei',     '固定資産 異動',    '資産税課',     '固定資産異動', 9.0, 1.0, 3.0, 0, 1.0),
 (9,  'kyufu',     '給付金 振込',      '福祉課',       '給付金振込',   4.0, 0.5, 2.0, 0, 0.3),
 (10, 'kaigo',     '介護認定 登録',    '介護保険課',   '介護認定',     6.0, 1.0, 2.0, 0, 0.6),
 (11, 'shiharai',  '支払伝票 入力',    '会計課',       '支払伝票',     5.0, 0.5, 1.0, 1, 0.5);

CREATE TEMP TABLE bench_days AS
SELECT (ROW_NUMBER() OVER (ORDER BY d) - 1)::INT AS i, d::DATE AS d
FROM generate_series(make_date(:fy, 4, 1), make_date(:fy + 1, 3, 31), INTERVAL '1 day') d
WHERE EXTRACT(ISODOW FROM d) < 6;

-- One row per run: which scenario, robot, day and time, how many items, how it ended.
CREATE TEMP TABLE bench_runs AS
WITH n AS (SELECT n FROM generate_series(0::BIGINT, :runs - 1) n),
     days AS (SELECT COUNT(*)::BIGINT AS days FROM bench_days)
SELECT n.n,
       ((n.n * 7) % 12)::INT AS s,
       'robot-' || LPAD((((n.n * 17) % 20) + 1)::TEXT, 2, '0') AS machine,
       (n.n * days.days / :runs)::INT AS day,
       ((n.n * 7919) % 28800)::INT AS second,
       (1 + (n.n * 13) % 5)::INT AS k,
       CASE WHEN n.n % 100 < 95 THEN 'succeeded' WHEN n.n % 100 < 98 THEN 'failed'
            WHEN n.n % 100 = 98 THEN 'aborted' ELSE 'interrupted' END AS state
FROM n, days;

CREATE TEMP TABLE bench_timed AS
SELECT r.*, sc.id, sc.name, sc.department, sc.task, sc.manual, sc.human_item, sc.human_run,
       sc.attended, sc.robot_item,
       (bd.d + TIME '08:30' + r.second * INTERVAL '1 second'
            + (r.n % 1000) * INTERVAL '1 millisecond') AS started
FROM bench_runs r JOIN bench_scenarios sc ON sc.s = r.s JOIN bench_days bd ON bd.i = r.day;

CREATE TEMP TABLE bench_items AS
SELECT t.n, t.id || '-' || TO_CHAR(t.started, 'YYYYMMDD') || '-' || LPAD(t.n::TEXT, 7, '0')
           || '-' || j AS item_key,
       j AS seq,
       CASE WHEN t.state = 'failed' AND j = t.k THEN 'application'
            WHEN (t.n + j) % 50 = 0 THEN 'business' END AS failure_kind,
       t.started + j * t.robot_item * INTERVAL '1 minute' AS at
FROM bench_timed t, generate_series(1, t.k) j;

CREATE TEMP TABLE bench_counts AS
SELECT n, COUNT(*) FILTER (WHERE failure_kind IS NULL) AS done,
       COUNT(*) FILTER (WHERE failure_kind IS NOT NULL) AS failed,
       MAX(at) AS last_at
FROM bench_items GROUP BY n;

INSERT INTO runs (run_id, kind, scenario_id, scenario_name, script_hash, department, task,
    machine, os_user, pid, process_started, started_at, ended_at, state, runs, items_done,
    items_failed, robot_minutes, manual_minutes_per_item, human_minutes_per_item,
    human_minutes_per_run, attended, before_minutes, after_minutes, saved_minutes, message,
    location, run_dir, run_trigger, alive_until)
SELECT run_id, 'run', id, name, md5(id), department, task, machine, 'rpa', 10000 + n % 50000,
       TO_CHAR(started - INTERVAL '2 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.MS+09:00'),
       TO_CHAR(started, 'YYYY-MM-DD"T"HH24:MI:SS.MS+09:00'),
       TO_CHAR(ended, 'YYYY-MM-DD"T"HH24:MI:SS.MS+09:00'),
       state, 1, done, failed, robot, manual, human_item, human_run, attended,
       done * manual, done * human_item + human_run + attended * robot,
       done * manual - (done * human_item + human_run + attended * robot),
       CASE state
         WHEN 'failed' THEN '照会結果 の画面が 30 秒以内に表示されませんでした'
         WHEN 'aborted' THEN '停止しました (ランチャーの停止ボタン)'
         WHEN 'interrupted' THEN 'the run stopped answering (no heartbeat within its limit: '
              || 'its PC or process stopped, or lost the network); the time is up to the last '
              || 'item recorded' END,
       CASE state WHEN 'failed' THEN 'main.rhai:42:9' END,
       '/home/rpa/kuroko/runs/' || run_id, 'agent', NULL
FROM (
  SELECT t.*, c.done, c.failed,
         TO_CHAR(t.started, 'YYYYMMDD-HH24MISSMS') || '-' || t.id || '-' || (10000 + t.n)
             AS run_id,
         c.last_at + INTERVAL '3 seconds' AS ended,
         EXTRACT(EPOCH FROM c.last_at + INTERVAL '3 seconds' - t.started) / 60.0 AS robot
  FROM bench_timed t JOIN bench_counts c ON c.n = t.n
) r;

INSERT INTO items (run_id, seq, item_key, state, failure, at)
SELECT TO_CHAR(t.started, 'YYYYMMDD-HH24MISSMS') || '-' || t.id || '-' || (10000 + t.n),
       i.seq, i.item_key,
       CASE WHEN i.failure_kind IS NULL THEN 'done' ELSE 'failed' END,
       CASE i.failure_kind
         WHEN 'business' THEN '住所不明: 転入元の住所が住基ネットにありません'
         WHEN 'application' THEN '照会結果 の画面が 30 秒以内に表示されませんでした' END,
       TO_CHAR(i.at, 'YYYY-MM-DD"T"HH24:MI:SS.MS+09:00')
FROM bench_items i JOIN bench_timed t ON t.n = i.n;

INSERT INTO daily_totals (day, department, task, machine, runs, succeeded, failed, aborted,
    interrupted, items_done, items_failed, before_minutes, after_minutes, saved_minutes,
    robot_minutes)
SELECT SUBSTR(started_at, 1, 10), department, task, machine, COUNT(*),
       COUNT(*) FILTER (WHERE state = 'succeeded'), COUNT(*) FILTER (WHERE state = 'failed'),
       COUNT(*) FILTER (WHERE state = 'aborted'), COUNT(*) FILTER (WHERE state = 'interrupted'),
       SUM(items_done), SUM(items_failed), SUM(before_minutes), SUM(after_minutes),
       SUM(saved_minutes), SUM(robot_minutes)
FROM runs GROUP BY SUBSTR(started_at, 1, 10), department, task, machine;

COMMIT;
ANALYZE;
