-- The live feed's low-water mark per gateway: the highest position (notification id) retention
-- has pruned of the gateway's events. A resume from below it would have a gap: it gets
-- resync_required instead (docs/live-feed.md). Raised in the pruning transaction, never lowered.
CREATE TABLE IF NOT EXISTS feed_low_water (
    gateway_id text PRIMARY KEY,
    position bigint NOT NULL
);
