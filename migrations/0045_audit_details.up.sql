-- The audit log's details as a list of named values (internal/audit.Details)
-- rather than one line of text, so the Admin audit page shows them as a
-- readable list. Old rows are converted the way audit.ParseDetail reads a
-- line: items separated by "; ", each "name: value" when a short name comes
-- before the first ": ". The text column stays, filled with the same line,
-- for anything that reads it.
ALTER TABLE admin_audit ADD COLUMN details jsonb NOT NULL DEFAULT '[]';

UPDATE admin_audit SET details = COALESCE((
    SELECT jsonb_agg(
        CASE WHEN position(': ' IN item) BETWEEN 2 AND 41
                  AND position('://' IN left(item, position(': ' IN item))) = 0
             THEN jsonb_build_object('name', left(item, position(': ' IN item) - 1),
                                     'value', substr(item, position(': ' IN item) + 2))
             ELSE jsonb_build_object('value', item)
        END ORDER BY n)
    FROM unnest(string_to_array(detail, '; ')) WITH ORDINALITY AS t(item, n)
    WHERE item <> ''), '[]');

-- The page filters by action and by admin.
CREATE INDEX admin_audit_action ON admin_audit (site_id, action, occurred_at DESC);
CREATE INDEX admin_audit_actor ON admin_audit (site_id, lower(actor), occurred_at DESC);
