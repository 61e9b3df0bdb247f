-- Outbound webhooks (docs/webhooks.md).

-- CreateIndex
CREATE INDEX "change_events_sync_run_id_model_record_id_idx" ON "change_events"("sync_run_id", "model", "record_id");

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL,
    "platform_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT,
    "event_types" TEXT[],
    "payload" TEXT NOT NULL DEFAULT 'full',
    "status" TEXT NOT NULL DEFAULT 'enabled',
    "disabled_reason" TEXT,
    "secret_encrypted" BYTEA NOT NULL,
    "previous_secret_encrypted" BYTEA,
    "previous_secret_expires_at" TIMESTAMPTZ(3),
    "failing_since" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_events" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "platform_id" UUID NOT NULL,
    "linked_account_id" UUID,
    "type" TEXT NOT NULL,
    "record_key" TEXT,
    "data" JSON NOT NULL,
    "sync_run_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "fanned_out_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "endpoint_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "event_seq" BIGINT NOT NULL,
    "record_key" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "locked_until" TIMESTAMPTZ(3),
    "last_response_status" INTEGER,
    "last_error" TEXT,
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- Room on each page for a row's new version: taking the lease (locked_until, not indexed) is then
-- a HOT update that touches none of the indexes.
ALTER TABLE "webhook_deliveries" SET (fillfactor = 70);

-- CreateTable
CREATE TABLE "webhook_delivery_attempts" (
    "id" BIGSERIAL NOT NULL,
    "delivery_id" UUID NOT NULL,
    "attempt_number" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "response_status" INTEGER,
    "error" TEXT,

    CONSTRAINT "webhook_delivery_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_pending_runs" (
    "sync_run_id" UUID NOT NULL,
    "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "model" TEXT,
    "after_record_id" UUID,

    CONSTRAINT "webhook_pending_runs_pkey" PRIMARY KEY ("sync_run_id")
);

-- CreateIndex
CREATE INDEX "webhook_endpoints_platform_id_idx" ON "webhook_endpoints"("platform_id");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_events_seq_key" ON "webhook_events"("seq");

-- CreateIndex
CREATE INDEX "webhook_events_platform_id_created_at_idx" ON "webhook_events"("platform_id", "created_at");

-- CreateIndex
CREATE INDEX "webhook_events_fanned_out_at_idx" ON "webhook_events"("fanned_out_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_status_next_attempt_at_idx" ON "webhook_deliveries"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_endpoint_id_status_event_seq_idx" ON "webhook_deliveries"("endpoint_id", "status", "event_seq");

-- CreateIndex
CREATE INDEX "webhook_deliveries_endpoint_id_record_key_event_seq_idx" ON "webhook_deliveries"("endpoint_id", "record_key", "event_seq");

-- CreateIndex
CREATE INDEX "webhook_deliveries_event_id_idx" ON "webhook_deliveries"("event_id");

-- CreateIndex
CREATE INDEX "webhook_delivery_attempts_delivery_id_idx" ON "webhook_delivery_attempts"("delivery_id");

-- AddForeignKey
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_platform_id_fkey" FOREIGN KEY ("platform_id") REFERENCES "platforms"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "webhook_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_delivery_attempts" ADD CONSTRAINT "webhook_delivery_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Time-ordered ids (UUID version 7: 48-bit Unix milliseconds first), so deliveries page in creation
-- order; PostgreSQL 18 has uuidv7() built in, 15 does not.
CREATE FUNCTION webhook_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

-- A sync run that ended (or was marked failed after its process died) is queued for webhook
-- events in the same transaction that ends it, and the workers are woken.
CREATE FUNCTION webhook_sync_run_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IN ('succeeded', 'failed') AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status) THEN
    INSERT INTO webhook_pending_runs (sync_run_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    PERFORM pg_notify('hris_webhooks', 'run');
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER webhook_sync_run_ended AFTER INSERT OR UPDATE OF status ON sync_runs
  FOR EACH ROW EXECUTE FUNCTION webhook_sync_run_ended();

-- Linked account events, written in the transaction that changes the account's status, whichever
-- code path changes it (connect flow, sync, expiry sweep).
CREATE FUNCTION webhook_linked_account_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  previous text := CASE WHEN TG_OP = 'UPDATE' THEN OLD.status::text END;
  body json;
  event_type text;
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
    RETURN NEW;
  END IF;
  body := json_build_object(
    'linked_account_id', NEW.id,
    'end_user_origin_id', NEW.end_user_origin_id,
    'organization_name', NEW.organization_name,
    'status', NEW.status,
    'previous_status', previous,
    'status_reason', NEW.status_reason,
    'credentials_expire_at',
      to_char(NEW.credentials_expire_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
  IF NEW.status = 'connected' AND (previous IS NULL OR previous = 'pending') THEN
    event_type := 'linked_account.connected';
  ELSIF TG_OP = 'UPDATE' THEN
    event_type := 'linked_account.status_changed';
  END IF;
  IF event_type IS NOT NULL THEN
    INSERT INTO webhook_events (id, platform_id, linked_account_id, type, record_key, data)
    VALUES (webhook_uuid_v7(), NEW.platform_id, NEW.id, event_type, 'linked_account:' || NEW.id, body);
  END IF;
  IF NEW.status = 'expiring_soon' THEN
    INSERT INTO webhook_events (id, platform_id, linked_account_id, type, record_key, data)
    VALUES (webhook_uuid_v7(), NEW.platform_id, NEW.id, 'linked_account.credentials_expiring',
            'linked_account:' || NEW.id, body);
  END IF;
  PERFORM pg_notify('hris_webhooks', 'event');
  RETURN NEW;
END
$$;

CREATE TRIGGER webhook_linked_account_event AFTER INSERT OR UPDATE OF status ON linked_accounts
  FOR EACH ROW EXECUTE FUNCTION webhook_linked_account_event();
