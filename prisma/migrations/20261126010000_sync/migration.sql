-- CreateTable
CREATE TABLE "sync_states" (
    "linked_account_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "source_reason" TEXT,
    "last_success_at" TIMESTAMPTZ(3),
    "last_error_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_states_pkey" PRIMARY KEY ("linked_account_id","model")
);

-- CreateTable
CREATE TABLE "sync_cursors" (
    "linked_account_id" UUID NOT NULL,
    "source_table" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "cursor" TEXT,
    "full_load_started_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_cursors_pkey" PRIMARY KEY ("linked_account_id","source_table")
);

-- CreateTable
CREATE TABLE "sync_seen_records" (
    "linked_account_id" UUID NOT NULL,
    "source_table" TEXT NOT NULL,
    "remote_id" TEXT NOT NULL,

    CONSTRAINT "sync_seen_records_pkey" PRIMARY KEY ("linked_account_id","source_table","remote_id")
);

-- CreateTable
CREATE TABLE "provider_records" (
    "linked_account_id" UUID NOT NULL,
    "source_table" TEXT NOT NULL,
    "remote_id" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "modified_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_records_pkey" PRIMARY KEY ("linked_account_id","source_table","remote_id")
);

-- CreateTable
CREATE TABLE "sync_runs" (
    "id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "stats" JSONB NOT NULL DEFAULT '{}',
    "error" TEXT,

    CONSTRAINT "sync_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "change_events" (
    "id" BIGSERIAL NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "record_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "sync_run_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "change_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sync_runs_linked_account_id_started_at_idx" ON "sync_runs"("linked_account_id", "started_at");

-- CreateIndex
CREATE INDEX "change_events_linked_account_id_id_idx" ON "change_events"("linked_account_id", "id");
