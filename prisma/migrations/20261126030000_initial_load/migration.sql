-- AlterTable
ALTER TABLE "sync_cursors" ADD COLUMN     "initial_load" BOOLEAN NOT NULL DEFAULT false;
