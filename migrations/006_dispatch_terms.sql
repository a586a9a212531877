-- Fencing for the dispatchers (docs/architecture.md, "Leadership and fencing"). A gateway's leader
-- holds the current term of its lease; every fire, adoption or closing it records checks that term
-- in the same transaction (dispatch_fence), so a paused or partitioned former leader cannot write.
CREATE TABLE IF NOT EXISTS dispatch_leases (
    gateway_id text PRIMARY KEY,
    term bigint NOT NULL,
    holder text NOT NULL,            -- the dispatcher instance (its connections' application_name)
    expires_at timestamptz NOT NULL  -- renewed by the holder; a replica may take over after it
);

-- Who carries out each run in flight, and whether its action was launched: a run recorded but
-- never launched may be launched by the next leader; a launched one is closed only once its
-- holder is gone or its timeout has passed.
ALTER TABLE dispatch_inflight ADD COLUMN IF NOT EXISTS holder text NOT NULL DEFAULT '';
ALTER TABLE dispatch_inflight ADD COLUMN IF NOT EXISTS launched_at timestamptz;

-- Raises unless `t` is the gateway's current term; the row stays share-locked until the caller's
-- transaction ends, so a takeover (which bumps the term) waits for writes of the old term to end.
CREATE OR REPLACE FUNCTION dispatch_fence(gw text, t bigint) RETURNS void AS $$
BEGIN
    PERFORM 1 FROM dispatch_leases WHERE gateway_id = gw AND term = t FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stale dispatch term % for gateway %', t, gw USING ERRCODE = 'GS001';
    END IF;
END
$$ LANGUAGE plpgsql;
