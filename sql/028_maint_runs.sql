-- The server's once-a-day jobs (libzxsync/gate/jobs.c): when each last ran, so that of all the
-- children of all the nodes exactly one runs it per day (an UPDATE of the row claims the run).
CREATE TABLE maint_runs (
    job       text PRIMARY KEY,
    last_run  timestamptz
);
INSERT INTO maint_runs (job) VALUES ('purge_mobile_state');
