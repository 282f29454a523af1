-- A draft that corrects a returned request (issue 6): submitting it resubmits that request
-- (the same request id, its history kept) instead of starting a new one.
ALTER TABLE drafts ADD COLUMN resubmits TEXT;
