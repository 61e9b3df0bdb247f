import { describe, expect, it } from 'vitest';
import { connectSandbox, sandboxDependencies, startFileSandbox } from '../helpers/sandbox.js';

/**
 * A keyed EntityDefinitions request answered as one entity (Dataverse) or as a one-item collection
 * (`{"value": [...]}`): the adapter reads the same table definitions from both.
 */
const sandbox = await startFileSandbox({ workers: 20 });
const deps = sandboxDependencies(sandbox);

describe('EntityDefinitions answer shapes', () => {
  it('plans from a collection-shaped answer exactly as from a single entity', async () => {
    const connection = connectSandbox(crypto.randomUUID(), sandbox, deps);
    sandbox.controls.setEntityDefinitionsShape('entity');
    const fromEntity = await connection.describeTables();
    sandbox.controls.setChangeTracking('cdm_job', false);
    sandbox.controls.removeTable('cdm_company');
    sandbox.controls.setEntityDefinitionsShape('collection');
    try {
      const fromCollection = await connection.describeTables();
      expect([...fromCollection.keys()]).toEqual([...fromEntity.keys()]);
      expect(fromCollection.get('cdm_company')).toBeNull();
      expect(fromCollection.get('cdm_job')).toMatchObject({
        entitySetName: 'cdm_jobs',
        changeTrackingEnabled: false,
      });
      for (const [name, definition] of fromEntity) {
        if (name === 'cdm_company' || name === 'cdm_job') continue;
        expect(fromCollection.get(name)).toEqual(definition);
      }
      expect(fromEntity.get('cdm_company')).toMatchObject({ entitySetName: 'cdm_companies' });
    } finally {
      sandbox.controls.setEntityDefinitionsShape('entity');
      sandbox.controls.restoreTable('cdm_company');
      sandbox.controls.setChangeTracking('cdm_job', true);
    }
  });
});
