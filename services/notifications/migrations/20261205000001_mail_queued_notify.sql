-- The mail sender waits on this channel instead of polling: a mail queued (or queued again) wakes
-- it at once. One notification per statement, whatever the rows; the sender then drains the queue.
CREATE FUNCTION notify_mail_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kutse_mail_queued', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER mails_queued AFTER INSERT ON mails
    FOR EACH STATEMENT EXECUTE FUNCTION notify_mail_queued();
