-- zxmobile migration 014: what outdates the answer cache (libzxsync/gate/answer.c).
--
-- Every httpd child keeps the no-change answers it gave (an empty Sync, a FolderSync without
-- changes) and gives them again to the same request, without asking the database, until a
-- notification says that something the answer depends on changed.  Mailbox changes and the
-- admin actions on devices are notified by the code that makes them (channel zx_mailbox).
-- These triggers notify the rest on channel zx_cache, whoever writes it (CLI, httpd, psql):
--   ''          (everything): the directory, the configuration, services, ABQ, EAS filters,
--               account loggers;
--   account id: a device record's control data, a sync or folder state of one of its devices.
-- NOTIFY is transactional and sent once per distinct payload and transaction.

CREATE FUNCTION zx_cache_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('zx_cache', '');
    RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['domains', 'cos', 'accounts',
                             'config_values', 'services', 'credentials', 'abq_devices',
                             'abq_rules', 'abq_messages', 'eas_filters', 'account_loggers'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION zx_cache_notify_all()',
                       t || '_zx_cache', t);
    END LOOP;
END $$;

-- abq_state: only the first-start import matters to a request (its notification bookkeeping
-- changes every abqNotificationsInterval and does not)
CREATE TRIGGER abq_state_zx_cache AFTER UPDATE OF imported_at ON abq_state
    FOR EACH STATEMENT EXECUTE FUNCTION zx_cache_notify_all();

-- devices: any column but the ones a request or a Ping writes as bookkeeping (last seen,
-- heartbeat, DeviceInformation, recovery password, what the device calls itself - that is
-- part of the cached request anyway).  A column added later outdates answers by default.
CREATE FUNCTION zx_cache_notify_device() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    volatile text[] := ARRAY['last_seen', 'last_command', 'last_heartbeat', 'abq_notified',
                             'device_type', 'user_agent', 'protocol', 'info_model', 'info_imei',
                             'info_friendly_name', 'info_os', 'info_os_language',
                             'info_phone_number', 'info_user_agent', 'info_enable_outbound_sms',
                             'info_mobile_operator', 'info_updated_at', 'recovery_password',
                             'recovery_password_at'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('zx_cache', OLD.account_id::text);
    ELSIF (to_jsonb(OLD) - volatile) IS DISTINCT FROM (to_jsonb(NEW) - volatile) THEN
        PERFORM pg_notify('zx_cache', NEW.account_id::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER devices_zx_cache AFTER UPDATE OR DELETE ON devices
    FOR EACH ROW EXECUTE FUNCTION zx_cache_notify_device();

-- sync and folder states: the account of the state's device ('' when the device is being
-- deleted with them: everything, which is rare and safe)
CREATE FUNCTION zx_cache_notify_state() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    dev bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.device_id ELSE NEW.device_id END;
BEGIN
    PERFORM pg_notify('zx_cache',
                      COALESCE((SELECT account_id::text FROM devices WHERE id = dev), ''));
    RETURN NULL;
END $$;

CREATE TRIGGER sync_states_zx_cache AFTER INSERT OR UPDATE OR DELETE ON sync_states
    FOR EACH ROW EXECUTE FUNCTION zx_cache_notify_state();
CREATE TRIGGER folder_states_zx_cache AFTER INSERT OR UPDATE OR DELETE ON folder_states
    FOR EACH ROW EXECUTE FUNCTION zx_cache_notify_state();
