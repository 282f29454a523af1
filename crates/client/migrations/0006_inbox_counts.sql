-- The inbox's counts without reading requests (issue 8): each open task carries its
-- request's template, so "how many wait for me, per template" is answered from an index.
ALTER TABLE tasks ADD COLUMN template_id TEXT NOT NULL DEFAULT '';
UPDATE tasks SET template_id = coalesce(
    (SELECT r.template_id FROM requests r WHERE r.id = tasks.request_id), '');
CREATE INDEX tasks_by_assignee_template ON tasks (assignee, template_id);
