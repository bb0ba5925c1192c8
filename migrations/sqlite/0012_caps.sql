-- Limits a part is taken under, read from its blueprint when it starts (as its time is): the
-- longest open response, in characters, and the longest approved break, in milliseconds (a
-- break past it ends by itself; a proctor's pause has no maximum). Parts started before this
-- migration get the defaults.
ALTER TABLE attempts ADD COLUMN max_response_chars INTEGER NOT NULL DEFAULT 6000;
ALTER TABLE attempts ADD COLUMN break_max_ms INTEGER NOT NULL DEFAULT 900000;
-- Browser events (focus lost, copy, paste) reported during the part: all are counted, only
-- the first few hundred are listed one by one in sitting_events.
ALTER TABLE attempts ADD COLUMN browser_events INTEGER NOT NULL DEFAULT 0;
