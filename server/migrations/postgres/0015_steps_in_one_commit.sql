-- Journal entries of several running jobs written in one round trip and one commit (the
-- steps concurrent runs report together): the commit's durability and the fenced insert
-- in one statement, so its implicit transaction ends with it. It runs on the control
-- plane's system-scope connections (row security lets them act for every workspace); each
-- entry names its workspace, and the fence joins its job on it. `p_steps` is a JSON array
-- of {job, tenant, key, entry, at, worker, attempt}, one per job and key. Answers the
-- entries written; an entry whose attempt no longer holds its job is not.
CREATE FUNCTION sy_record_steps(p_steps TEXT, p_async_commit BOOLEAN)
RETURNS TABLE (written_job TEXT, written_key TEXT)
LANGUAGE plpgsql SECURITY INVOKER AS $$
BEGIN
    IF p_async_commit THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    -- The share locks on the jobs' rows: an attempt replacing one of these (an update of
    -- that row) waits for this write, and cannot be overwritten by it.
    RETURN QUERY
    WITH written_rows AS (
    INSERT INTO job_steps AS written (job_id, tenant_id, key, entry, recorded_at)
        SELECT s.job, s.tenant, s.key, s.entry, s.at
        FROM json_to_recordset(p_steps::json)
            AS s(job TEXT, tenant TEXT, key TEXT, entry TEXT, at BIGINT, worker TEXT, attempt BIGINT)
        JOIN jobs ON jobs.id = s.job AND jobs.tenant_id = s.tenant
        WHERE jobs.status = 'running' AND jobs.lease_holder = s.worker AND jobs.attempt = s.attempt
        FOR SHARE OF jobs
    ON CONFLICT (job_id, key) DO UPDATE SET entry = excluded.entry, recorded_at = excluded.recorded_at
    RETURNING written.job_id, written.key
    )
    SELECT * FROM written_rows;
END
$$;
GRANT EXECUTE ON FUNCTION sy_record_steps(TEXT, BOOLEAN) TO switchyard_app;

-- One step at a time, in the workspace's scope: replaced by the function above.
DROP FUNCTION sy_record_step(TEXT, TEXT, TEXT, TEXT, BIGINT, TEXT, BIGINT, BOOLEAN);
