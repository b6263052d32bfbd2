DROP INDEX admin_audit_actor;
DROP INDEX admin_audit_action;
ALTER TABLE admin_audit DROP COLUMN details;
