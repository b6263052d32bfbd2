-- Every portal process keeps the sites and their SSO configuration in
-- memory (internal/sites, internal/sso); a change made anywhere (a page, a
-- command, another process, by hand) is announced on the channel
-- portal_config so that every process forgets what it kept. The payload
-- names what changed: "site:<id>" for a site's configuration, "sites" for
-- the list of sites.
CREATE FUNCTION portal_site_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('portal_config', 'site:' || OLD.site_id);
    ELSE
        PERFORM pg_notify('portal_config', 'site:' || NEW.site_id);
        IF TG_OP = 'UPDATE' AND OLD.site_id <> NEW.site_id THEN
            PERFORM pg_notify('portal_config', 'site:' || OLD.site_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER sso_settings_changed AFTER INSERT OR UPDATE OR DELETE ON sso_settings
    FOR EACH ROW EXECUTE FUNCTION portal_site_config_changed();
CREATE TRIGGER idp_certificates_changed AFTER INSERT OR UPDATE OR DELETE ON idp_certificates
    FOR EACH ROW EXECUTE FUNCTION portal_site_config_changed();
CREATE TRIGGER sp_keys_changed AFTER INSERT OR UPDATE OR DELETE ON sp_keys
    FOR EACH ROW EXECUTE FUNCTION portal_site_config_changed();

CREATE FUNCTION portal_sites_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portal_config', 'sites');
    RETURN NULL;
END $$;

CREATE TRIGGER sites_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sites
    FOR EACH STATEMENT EXECUTE FUNCTION portal_sites_changed();
