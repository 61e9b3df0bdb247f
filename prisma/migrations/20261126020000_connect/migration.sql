-- CreateTable
CREATE TABLE "connect_links" (
    "id" UUID NOT NULL,
    "platform_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "linked_account_id" UUID,
    "end_user_origin_id" TEXT NOT NULL,
    "organization_name" TEXT NOT NULL,
    "end_user_email" TEXT,
    "provider" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "connect_links_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "connect_public_tokens" (
    "id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "platform_id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "connect_link_id" UUID NOT NULL,
    "account_token_encrypted" BYTEA,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "exchanged_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "connect_public_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "connect_links_token_hash_key" ON "connect_links"("token_hash");

-- CreateIndex
CREATE INDEX "connect_links_platform_id_created_at_idx" ON "connect_links"("platform_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "connect_public_tokens_token_hash_key" ON "connect_public_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "connect_public_tokens_linked_account_id_idx" ON "connect_public_tokens"("linked_account_id");

-- AddForeignKey
ALTER TABLE "connect_links" ADD CONSTRAINT "connect_links_platform_id_fkey" FOREIGN KEY ("platform_id") REFERENCES "platforms"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connect_public_tokens" ADD CONSTRAINT "connect_public_tokens_linked_account_id_fkey" FOREIGN KEY ("linked_account_id") REFERENCES "linked_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
