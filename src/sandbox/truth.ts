import type {
  BenefitOptionRow,
  BenefitPlanRow,
  BenefitTypeRow,
  CompanyRow,
  DataverseEntitySetName,
  DepartmentRow,
  EmploymentRow,
  FnoCoveredDependentRow,
  FnoEnrolledBenefitRow,
  FnoEntitySetName,
  FnoPersonalContactRow,
  FnoWorkerRow,
  GeneratedOrganisation,
  JobPositionRow,
  JobRow,
  PositionWorkerAssignmentRow,
  WorkerRow,
} from './data/types.js';
import type { DataverseEnvironment } from './dataverse/environment.js';

/**
 * The truth a tenant serves, queryable in-process: live rows (after controls), in wire shape, so a test
 * can compare what the gateway stored with what the sandbox holds.
 */
export interface SandboxTruth {
  seed: number;
  workerCount: number;
  asOf: string;
  /** Current rows of a Dataverse table (sorted by primary key), including rows created by controls. */
  dataverse<K extends DataverseEntitySetName>(
    entitySet: K,
  ): readonly GeneratedOrganisation['dataverse'][K][number][];
  /** Ids deleted from a Dataverse table by controls. */
  deletedIds(entitySet: DataverseEntitySetName): string[];
  fno<K extends FnoEntitySetName>(entitySet: K): readonly GeneratedOrganisation['fno'][K][number][];
  readonly companies: readonly CompanyRow[];
  readonly departments: readonly DepartmentRow[];
  readonly jobs: readonly JobRow[];
  readonly positions: readonly JobPositionRow[];
  readonly assignments: readonly PositionWorkerAssignmentRow[];
  readonly workers: readonly WorkerRow[];
  readonly employments: readonly EmploymentRow[];
  readonly benefitTypes: readonly BenefitTypeRow[];
  readonly benefitPlans: readonly BenefitPlanRow[];
  readonly benefitOptions: readonly BenefitOptionRow[];
  /** F&O only (no Dataverse table holds them, docs/microsoft-wire.md, "Dataverse tables and columns"). */
  readonly fnoWorkers: readonly FnoWorkerRow[];
  readonly dependents: readonly FnoPersonalContactRow[];
  readonly enrollments: readonly FnoEnrolledBenefitRow[];
  readonly coveredDependents: readonly FnoCoveredDependentRow[];
}

export function createTruth(
  organisation: GeneratedOrganisation,
  dataverse: DataverseEnvironment,
): SandboxTruth {
  const liveRows = <K extends DataverseEntitySetName>(entitySet: K) => {
    for (const table of dataverse.tables.values()) {
      if (table.definition.entitySetName === entitySet) {
        return table.store.rows() as unknown as readonly GeneratedOrganisation['dataverse'][K][number][];
      }
    }
    return [];
  };
  return {
    seed: organisation.seed,
    workerCount: organisation.workerCount,
    asOf: organisation.asOf,
    dataverse: liveRows,
    deletedIds: (entitySet) => {
      for (const table of dataverse.tables.values()) {
        if (table.definition.entitySetName === entitySet)
          return table.store.deletions.map((deletion) => deletion.id);
      }
      return [];
    },
    fno: (entitySet) => organisation.fno[entitySet],
    get companies() {
      return liveRows('cdm_companies');
    },
    get departments() {
      return liveRows('cdm_departments');
    },
    get jobs() {
      return liveRows('cdm_jobs');
    },
    get positions() {
      return liveRows('cdm_jobpositions');
    },
    get assignments() {
      return liveRows('cdm_positionworkerassignmentmaps');
    },
    get workers() {
      return liveRows('cdm_workers');
    },
    get employments() {
      return liveRows('cdm_employments');
    },
    get benefitTypes() {
      return liveRows('cdm_benefittypes');
    },
    get benefitPlans() {
      return liveRows('cdm_benefitplans');
    },
    get benefitOptions() {
      return liveRows('cdm_benefitoptions');
    },
    get fnoWorkers() {
      return organisation.fno.Workers;
    },
    get dependents() {
      return organisation.fno.WorkerPersonalContactPersons;
    },
    get enrollments() {
      return organisation.fno.WorkerEnrolledBenefits;
    },
    get coveredDependents() {
      return organisation.fno.CoveredDependentRelationships;
    },
  };
}
