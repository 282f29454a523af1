-- The inbox's order is (opened_at, request_id, task_no). With only opened_at in the index,
-- tasks opened at the same instant (a bulk import, an escalation that opens many at once)
-- had to be read and sorted in full before the first page could be cut from them: at 20k
-- tasks sharing one instant, 40 ms per page (issue 8). With the whole order in the index,
-- a page reads its rows and stops.
DROP INDEX tasks_by_assignee;
CREATE INDEX tasks_by_assignee ON tasks (assignee, opened_at, request_id, task_no);
