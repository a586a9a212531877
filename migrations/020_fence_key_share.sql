-- A fence no longer holds up lease renewals (docs/decisions.md 99). `term` becomes part of a key
-- (a unique index on gateway_id, term), so an update that changes it, a takeover, takes the row's
-- strongest lock; the fence share-locks only the key (FOR KEY SHARE). A takeover therefore still
-- waits for every write of the old term to end, while a renewal (an update of expires_at alone)
-- no longer waits for the fire transactions in flight, which may wait for the event table.
CREATE UNIQUE INDEX IF NOT EXISTS dispatch_leases_term_key ON dispatch_leases (gateway_id, term);

CREATE OR REPLACE FUNCTION dispatch_fence(gw text, t bigint) RETURNS void AS $$
BEGIN
    PERFORM 1 FROM dispatch_leases WHERE gateway_id = gw AND term = t FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stale dispatch term % for gateway %', t, gw USING ERRCODE = 'GS001';
    END IF;
END
$$ LANGUAGE plpgsql;
