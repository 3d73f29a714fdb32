import { expect, it } from 'vitest';
import { schemaDrift } from '@shop/kit';
import { database } from './persistence.js';

it('the entities, the migrations and the snapshot describe the same tables', async () => {
  expect(await schemaDrift(database)).toEqual({ database: '', snapshot: '' });
});
