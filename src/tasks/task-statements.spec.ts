import { getMetadataArgsStorage } from 'typeorm';
import { Task } from './task.entity';
import { COLUMNS } from './task-statements';

describe('task statements', () => {
  it('select every column of the Task entity but its owner, each under its property name', () => {
    const entity = getMetadataArgsStorage()
      .columns.filter((column) => column.target === Task && column.propertyName !== 'userId')
      .map((column) => `${column.options.name ?? column.propertyName} ${column.propertyName}`);
    const selected = COLUMNS.split(',').map((item) => {
      const [, column, alias] = /^\s*t\.(\w+)(?: AS "(\w+)")?\s*$/.exec(item) ?? [];
      return `${column} ${alias ?? column}`;
    });
    expect(selected.sort()).toEqual(entity.sort());
  });
});
