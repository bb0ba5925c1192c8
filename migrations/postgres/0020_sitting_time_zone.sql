-- Each sitting's time zone (issue 13): an IANA name such as America/Detroit, checked by the
-- server when the sitting is scheduled. Its times are stored in UTC milliseconds as before and
-- shown in this zone; sittings scheduled before this migration are in UTC.
ALTER TABLE sittings ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
