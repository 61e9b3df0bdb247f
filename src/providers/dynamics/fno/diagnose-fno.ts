import type { Diagnosis } from '../diagnose.js';
import { DmfExportError } from './dmf.js';
import { FnoError } from './fno-http.js';

/**
 * Finance & Operations failures in words (docs/microsoft-wire.md, "F&O data entities"). F&O is a separate service from Dataverse:
 * an app that Dataverse accepts still needs its own registration in F&O, mapped to a user with
 * security roles, and DMF needs the data project to exist.
 */
const FNO_APPS = 'System administration > Setup > Microsoft Entra applications';
const FNO_ROLES = 'System administration > Users > (the user the app is mapped to) > Assign roles';
const DATA_PROJECTS = 'Data management workspace > Export';

export function diagnoseFno(error: unknown): Diagnosis | undefined {
  if (error instanceof DmfExportError) {
    if (error.failure === 'timeout') {
      return {
        status: 'degraded',
        reason: `${error.message} Large exports can take long: raise the DMF time limit in the account's settings, or check the batch job in F&O's ${DATA_PROJECTS} > Job history.`,
      };
    }
    if (error.failure === 'format') {
      return {
        status: 'error_config',
        reason: `${error.message} In F&O's ${DATA_PROJECTS}, open the data project and choose a CSV source data format (CSV-Unicode) for each entity.`,
      };
    }
    if (error.failure === 'unknown-execution') {
      return {
        status: 'degraded',
        reason: `${error.message} Check F&O's ${DATA_PROJECTS} > Job history and that the batch service runs; the next sync exports again.`,
      };
    }
    if (error.failure === 'package') {
      return {
        status: 'error_config',
        reason: `${error.message} Check the data project's entities in F&O's ${DATA_PROJECTS} (each needs to be in the package, as CSV).`,
      };
    }
    return {
      status: 'degraded',
      reason: `${error.message} See the execution in F&O's ${DATA_PROJECTS} > Job history; nothing was deleted, the next sync exports again.`,
    };
  }
  if (!(error instanceof FnoError)) return undefined;
  if (error.status === 401) {
    return {
      status: 'error_permissions',
      reason: `Finance & Operations rejected the app (401): register the app's client id in F&O under ${FNO_APPS}, mapped to a user (e.g. a dedicated integration user), and check that the F&O environment URL is the token audience.`,
    };
  }
  if (error.status === 403) {
    return {
      status: 'error_permissions',
      reason: `Finance & Operations refused access (403: ${error.message}): the user the app is mapped to in ${FNO_APPS} needs security roles that read workers, organisation (legal entities, departments, positions), personal contacts and benefits, and "Data management administrator" for DMF exports (${FNO_ROLES}).`,
    };
  }
  if (/data project|definition group/i.test(error.message)) {
    return {
      status: 'error_config',
      reason: `F&O has no such DMF data project (${error.message}): create an export project with the entities of the models F&O serves (Worker personal contact person; Worker enrolled benefit and Covered dependent relationship; and Worker, Employment, View companies, Department, Positions V2, Position hierarchies, Benefit plan where Dataverse lacks them; CSV-Unicode) in ${DATA_PROJECTS}, or set the account's DMF definition group to an existing one.`,
    };
  }
  if (error.status === 404) {
    return {
      status: 'error_config',
      reason: `Finance & Operations answered 404 for ${new URL(error.url).pathname}: check the F&O environment URL (https://<env>.operations.dynamics.com).`,
    };
  }
  return undefined;
}
