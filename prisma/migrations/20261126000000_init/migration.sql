-- CreateEnum
CREATE TYPE "linked_account_status" AS ENUM ('pending', 'connected', 'expiring_soon', 'needs_reauth', 'error_permissions', 'error_config', 'degraded', 'disconnected');

-- CreateEnum
CREATE TYPE "gender" AS ENUM ('MALE', 'FEMALE', 'NON_BINARY', 'OTHER', 'PREFER_NOT_TO_DISCLOSE');

-- CreateEnum
CREATE TYPE "worker_type" AS ENUM ('EMPLOYEE', 'CONTRACTOR', 'VOLUNTEER', 'OTHER');

-- CreateEnum
CREATE TYPE "employment_status" AS ENUM ('ACTIVE', 'PENDING', 'INACTIVE', 'LEAVE');

-- CreateEnum
CREATE TYPE "employment_type" AS ENUM ('FULL_TIME', 'PART_TIME', 'INTERN', 'CONTRACTOR', 'FREELANCE');

-- CreateEnum
CREATE TYPE "pay_period" AS ENUM ('HOUR', 'DAY', 'WEEK', 'EVERY_TWO_WEEKS', 'SEMIMONTHLY', 'MONTH', 'QUARTER', 'EVERY_SIX_MONTHS', 'YEAR');

-- CreateEnum
CREATE TYPE "pay_frequency" AS ENUM ('WEEKLY', 'BIWEEKLY', 'SEMIMONTHLY', 'MONTHLY', 'QUARTERLY', 'SEMIANNUALLY', 'ANNUALLY', 'DAILY');

-- CreateEnum
CREATE TYPE "relationship" AS ENUM ('CHILD', 'SPOUSE', 'DOMESTIC_PARTNER', 'OTHER');

-- CreateEnum
CREATE TYPE "plan_type" AS ENUM ('MEDICAL', 'DENTAL', 'VISION', 'LIFE', 'DISABILITY', 'HSA', 'FSA', 'RETIREMENT', 'COMMUTER', 'OTHER');

-- CreateEnum
CREATE TYPE "enrollment_status" AS ENUM ('ACTIVE', 'WAIVED', 'TERMINATED', 'PENDING');

-- CreateEnum
CREATE TYPE "coverage_level" AS ENUM ('EMPLOYEE_ONLY', 'EMPLOYEE_SPOUSE', 'EMPLOYEE_CHILDREN', 'EMPLOYEE_FAMILY', 'OTHER');

-- CreateTable
CREATE TABLE "platforms" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "platforms_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "platform_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "sensitive" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "linked_accounts" (
    "id" UUID NOT NULL,
    "platform_id" UUID NOT NULL,
    "end_user_origin_id" TEXT NOT NULL,
    "organization_name" TEXT NOT NULL,
    "end_user_email" TEXT,
    "provider" TEXT NOT NULL,
    "status" "linked_account_status" NOT NULL DEFAULT 'pending',
    "status_reason" TEXT,
    "credentials_encrypted" BYTEA,
    "credentials_expire_at" TIMESTAMPTZ(3),
    "account_token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_synced_at" TIMESTAMPTZ(3),

    CONSTRAINT "linked_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sensitive_read_audits" (
    "id" BIGSERIAL NOT NULL,
    "api_key_id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "fields" TEXT[],
    "record_count" INTEGER NOT NULL,
    "request_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sensitive_read_audits_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "companies" (
    "id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "remote_id" TEXT NOT NULL,
    "name" TEXT,
    "legal_name" TEXT,
    "company_code" TEXT,
    "remote_data" JSONB,
    "remote_created_at" TIMESTAMPTZ(3),
    "remote_modified_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "modified_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "remote_was_deleted" BOOLEAN NOT NULL DEFAULT false,
    "remote_deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "companies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "departments" (
    "id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "remote_id" TEXT NOT NULL,
    "name" TEXT,
    "code" TEXT,
    "company_id" UUID,
    "parent_department_id" UUID,
    "remote_data" JSONB,
    "remote_created_at" TIMESTAMPTZ(3),
    "remote_modified_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "modified_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "remote_was_deleted" BOOLEAN NOT NULL DEFAULT false,
    "remote_deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "departments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job_positions" (
    "id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "remote_id" TEXT NOT NULL,
    "position_number" TEXT,
    "job_title" TEXT,
    "description" TEXT,
    "company_id" UUID,
    "department_id" UUID,
    "full_time_equivalent" DECIMAL(6,3),
    "valid_from" DATE,
    "valid_to" DATE,
    "remote_data" JSONB,
    "remote_created_at" TIMESTAMPTZ(3),
    "remote_modified_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "modified_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "remote_was_deleted" BOOLEAN NOT NULL DEFAULT false,
    "remote_deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "job_positions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "employees" (
    "id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "remote_id" TEXT NOT NULL,
    "employee_number" TEXT,
    "company_id" UUID,
    "first_name" TEXT,
    "middle_name" TEXT,
    "last_name" TEXT,
    "preferred_name" TEXT,
    "display_full_name" TEXT,
    "work_email" TEXT,
    "personal_email" TEXT,
    "mobile_phone_number" TEXT,
    "manager_id" UUID,
    "department_id" UUID,
    "position_id" UUID,
    "job_title" TEXT,
    "date_of_birth" DATE,
    "gender" "gender",
    "gender_raw" TEXT,
    "worker_type" "worker_type",
    "worker_type_raw" TEXT,
    "employment_status" "employment_status",
    "employment_status_raw" TEXT,
    "hire_date" DATE,
    "start_date" DATE,
    "termination_date" DATE,
    "remote_data" JSONB,
    "remote_created_at" TIMESTAMPTZ(3),
    "remote_modified_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "modified_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "remote_was_deleted" BOOLEAN NOT NULL DEFAULT false,
    "remote_deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "employees_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "employments" (
    "id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "remote_id" TEXT NOT NULL,
    "employee_id" UUID,
    "company_id" UUID,
    "position_id" UUID,
    "job_title" TEXT,
    "employment_type" "employment_type",
    "employment_type_raw" TEXT,
    "start_date" DATE,
    "end_date" DATE,
    "pay_rate" DECIMAL(14,4),
    "pay_period" "pay_period",
    "pay_period_raw" TEXT,
    "pay_frequency" "pay_frequency",
    "pay_frequency_raw" TEXT,
    "pay_currency" TEXT,
    "remote_data" JSONB,
    "remote_created_at" TIMESTAMPTZ(3),
    "remote_modified_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "modified_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "remote_was_deleted" BOOLEAN NOT NULL DEFAULT false,
    "remote_deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "employments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dependents" (
    "id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "remote_id" TEXT NOT NULL,
    "employee_id" UUID,
    "first_name" TEXT,
    "middle_name" TEXT,
    "last_name" TEXT,
    "relationship" "relationship",
    "relationship_raw" TEXT,
    "date_of_birth" DATE,
    "gender" "gender",
    "gender_raw" TEXT,
    "is_student" BOOLEAN,
    "is_disabled" BOOLEAN,
    "is_court_ordered" BOOLEAN,
    "is_domestic_partner_verified" BOOLEAN,
    "is_beneficiary" BOOLEAN,
    "is_emergency_contact" BOOLEAN,
    "remote_data" JSONB,
    "remote_created_at" TIMESTAMPTZ(3),
    "remote_modified_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "modified_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "remote_was_deleted" BOOLEAN NOT NULL DEFAULT false,
    "remote_deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "dependents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "benefit_plans" (
    "id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "remote_id" TEXT NOT NULL,
    "name" TEXT,
    "description" TEXT,
    "plan_type" "plan_type",
    "plan_type_raw" TEXT,
    "carrier_name" TEXT,
    "plan_year_start" DATE,
    "plan_year_end" DATE,
    "coverage_levels_offered" "coverage_level"[],
    "remote_data" JSONB,
    "remote_created_at" TIMESTAMPTZ(3),
    "remote_modified_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "modified_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "remote_was_deleted" BOOLEAN NOT NULL DEFAULT false,
    "remote_deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "benefit_plans_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "benefit_enrollments" (
    "id" UUID NOT NULL,
    "linked_account_id" UUID NOT NULL,
    "remote_id" TEXT NOT NULL,
    "employee_id" UUID,
    "benefit_plan_id" UUID,
    "status" "enrollment_status",
    "status_raw" TEXT,
    "coverage_level" "coverage_level",
    "coverage_level_raw" TEXT,
    "start_date" DATE,
    "end_date" DATE,
    "employee_contribution_amount_minor" BIGINT,
    "employee_contribution_percent_bps" INTEGER,
    "employee_contribution_currency" TEXT,
    "company_contribution_amount_minor" BIGINT,
    "company_contribution_percent_bps" INTEGER,
    "company_contribution_currency" TEXT,
    "remote_data" JSONB,
    "remote_created_at" TIMESTAMPTZ(3),
    "remote_modified_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "modified_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "remote_was_deleted" BOOLEAN NOT NULL DEFAULT false,
    "remote_deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "benefit_enrollments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "benefit_enrollment_dependents" (
    "linked_account_id" UUID NOT NULL,
    "benefit_enrollment_id" UUID NOT NULL,
    "dependent_id" UUID NOT NULL,
    "remote_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "benefit_enrollment_dependents_pkey" PRIMARY KEY ("benefit_enrollment_id","dependent_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_platform_id_idx" ON "api_keys"("platform_id");

-- CreateIndex
CREATE UNIQUE INDEX "linked_accounts_account_token_hash_key" ON "linked_accounts"("account_token_hash");

-- CreateIndex
CREATE INDEX "linked_accounts_platform_id_created_at_idx" ON "linked_accounts"("platform_id", "created_at");

-- CreateIndex
CREATE INDEX "sensitive_read_audits_linked_account_id_created_at_idx" ON "sensitive_read_audits"("linked_account_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "companies_linked_account_id_remote_id_key" ON "companies"("linked_account_id", "remote_id");

-- CreateIndex
CREATE INDEX "companies_linked_account_id_id_idx" ON "companies"("linked_account_id", "id");

-- CreateIndex
CREATE INDEX "companies_linked_account_id_modified_at_idx" ON "companies"("linked_account_id", "modified_at");

-- CreateIndex
CREATE UNIQUE INDEX "departments_linked_account_id_remote_id_key" ON "departments"("linked_account_id", "remote_id");

-- CreateIndex
CREATE INDEX "departments_linked_account_id_id_idx" ON "departments"("linked_account_id", "id");

-- CreateIndex
CREATE INDEX "departments_linked_account_id_modified_at_idx" ON "departments"("linked_account_id", "modified_at");

-- CreateIndex
CREATE UNIQUE INDEX "job_positions_linked_account_id_remote_id_key" ON "job_positions"("linked_account_id", "remote_id");

-- CreateIndex
CREATE INDEX "job_positions_linked_account_id_id_idx" ON "job_positions"("linked_account_id", "id");

-- CreateIndex
CREATE INDEX "job_positions_linked_account_id_modified_at_idx" ON "job_positions"("linked_account_id", "modified_at");

-- CreateIndex
CREATE UNIQUE INDEX "employees_linked_account_id_remote_id_key" ON "employees"("linked_account_id", "remote_id");

-- CreateIndex
CREATE INDEX "employees_linked_account_id_id_idx" ON "employees"("linked_account_id", "id");

-- CreateIndex
CREATE INDEX "employees_linked_account_id_modified_at_idx" ON "employees"("linked_account_id", "modified_at");

-- CreateIndex
CREATE INDEX "employees_linked_account_id_employee_number_idx" ON "employees"("linked_account_id", "employee_number");

-- CreateIndex
CREATE INDEX "employees_linked_account_id_manager_id_idx" ON "employees"("linked_account_id", "manager_id");

-- CreateIndex
CREATE UNIQUE INDEX "employments_linked_account_id_remote_id_key" ON "employments"("linked_account_id", "remote_id");

-- CreateIndex
CREATE INDEX "employments_linked_account_id_id_idx" ON "employments"("linked_account_id", "id");

-- CreateIndex
CREATE INDEX "employments_linked_account_id_modified_at_idx" ON "employments"("linked_account_id", "modified_at");

-- CreateIndex
CREATE INDEX "employments_linked_account_id_employee_id_idx" ON "employments"("linked_account_id", "employee_id");

-- CreateIndex
CREATE UNIQUE INDEX "dependents_linked_account_id_remote_id_key" ON "dependents"("linked_account_id", "remote_id");

-- CreateIndex
CREATE INDEX "dependents_linked_account_id_id_idx" ON "dependents"("linked_account_id", "id");

-- CreateIndex
CREATE INDEX "dependents_linked_account_id_modified_at_idx" ON "dependents"("linked_account_id", "modified_at");

-- CreateIndex
CREATE INDEX "dependents_linked_account_id_employee_id_idx" ON "dependents"("linked_account_id", "employee_id");

-- CreateIndex
CREATE UNIQUE INDEX "benefit_plans_linked_account_id_remote_id_key" ON "benefit_plans"("linked_account_id", "remote_id");

-- CreateIndex
CREATE INDEX "benefit_plans_linked_account_id_id_idx" ON "benefit_plans"("linked_account_id", "id");

-- CreateIndex
CREATE INDEX "benefit_plans_linked_account_id_modified_at_idx" ON "benefit_plans"("linked_account_id", "modified_at");

-- CreateIndex
CREATE UNIQUE INDEX "benefit_enrollments_linked_account_id_remote_id_key" ON "benefit_enrollments"("linked_account_id", "remote_id");

-- CreateIndex
CREATE INDEX "benefit_enrollments_linked_account_id_id_idx" ON "benefit_enrollments"("linked_account_id", "id");

-- CreateIndex
CREATE INDEX "benefit_enrollments_linked_account_id_modified_at_idx" ON "benefit_enrollments"("linked_account_id", "modified_at");

-- CreateIndex
CREATE INDEX "benefit_enrollments_linked_account_id_employee_id_idx" ON "benefit_enrollments"("linked_account_id", "employee_id");

-- CreateIndex
CREATE INDEX "benefit_enrollments_linked_account_id_benefit_plan_id_idx" ON "benefit_enrollments"("linked_account_id", "benefit_plan_id");

-- CreateIndex
CREATE INDEX "benefit_enrollment_dependents_dependent_idx" ON "benefit_enrollment_dependents"("linked_account_id", "dependent_id");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_platform_id_fkey" FOREIGN KEY ("platform_id") REFERENCES "platforms"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "linked_accounts" ADD CONSTRAINT "linked_accounts_platform_id_fkey" FOREIGN KEY ("platform_id") REFERENCES "platforms"("id") ON DELETE CASCADE ON UPDATE CASCADE;
