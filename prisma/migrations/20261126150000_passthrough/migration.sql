-- POST /v1/passthrough (docs/passthrough.md): the key permission and the audit of every call.

-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN     "passthrough" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "passthrough_audits" (
    "id" BIGSERIAL NOT NULL,
    "api_key_id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "method" TEXT NOT NULL,
    "target" TEXT,
    "path" TEXT NOT NULL,
    "query_names" TEXT[],
    "status" INTEGER NOT NULL,
    "provider_status" INTEGER,
    "error_code" TEXT,
    "duration_ms" INTEGER NOT NULL,
    "request_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "passthrough_audits_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "passthrough_audits_linked_account_id_created_at_idx" ON "passthrough_audits"("linked_account_id", "created_at");
