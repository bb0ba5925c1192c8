-- Each attempt's answers as submitted (item -> answer, JSON), written with the submission: a
-- submitted attempt takes no more saves, so the committee's pages read one row per attempt
-- instead of deriving every answer from the response log. NULL for attempts submitted before
-- this column existed (their answers are derived from the log, as before).
ALTER TABLE attempts ADD COLUMN final_answers TEXT;
