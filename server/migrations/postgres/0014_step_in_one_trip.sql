-- A journal entry written in one round trip: the workspace's scope (row security), the
-- commit's durability and the fenced insert in one statement, so its implicit transaction
-- ends with it. It runs as the caller (switchyard_app, under row security like any query);
-- the scope it sets is the transaction's only. Answers the rows written: 1, or 0 when the
-- fence refused (the attempt no longer holds the job).
CREATE FUNCTION sy_record_step(
    p_job TEXT, p_tenant TEXT, p_key TEXT, p_entry TEXT, p_at BIGINT,
    p_worker TEXT, p_attempt BIGINT, p_async_commit BOOLEAN
) RETURNS BIGINT
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
    written BIGINT;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant, true);
    IF p_async_commit THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    -- The share lock on the job's row: an attempt replacing this one (an update of that
    -- row) waits for this write, and cannot be overwritten by it.
    INSERT INTO job_steps (job_id, tenant_id, key, entry, recorded_at)
        SELECT p_job, p_tenant, p_key, p_entry, p_at FROM jobs
        WHERE id = p_job AND tenant_id = p_tenant AND status = 'running'
            AND lease_holder = p_worker AND attempt = p_attempt
        FOR SHARE
    ON CONFLICT (job_id, key) DO UPDATE SET entry = excluded.entry, recorded_at = excluded.recorded_at;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
GRANT EXECUTE ON FUNCTION sy_record_step(TEXT, TEXT, TEXT, TEXT, BIGINT, TEXT, BIGINT, BOOLEAN) TO switchyard_app;
