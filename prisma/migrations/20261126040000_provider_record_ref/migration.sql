-- AlterTable
ALTER TABLE "provider_records" ADD COLUMN     "ref_id" TEXT;

-- CreateIndex
CREATE INDEX "provider_records_linked_account_id_source_table_ref_id_idx" ON "provider_records"("linked_account_id", "source_table", "ref_id");
