import { validateSync } from 'class-validator';
import { IsCalendarDate, isCalendarDate } from './calendar-date';

describe('isCalendarDate', () => {
  it.each(['2026-01-01', '2026-12-31', '2024-02-29', '2000-02-29', '0100-01-01', '9999-12-31', '1970-01-01'])(
    'accepts %s',
    (value) => {
      expect(isCalendarDate(value)).toBe(true);
    },
  );

  it.each([
    ['the 30th of February', '2026-02-30'],
    ['the 29th of February in a common year', '2026-02-29'],
    ['1900, not a leap year', '1900-02-29'],
    ['the 31st of April', '2026-04-31'],
    ['month 13', '2026-13-01'],
    ['month 0', '2026-00-10'],
    ['day 0', '2026-01-00'],
    ['year 0', '0000-01-01'],
    ['a one-digit month', '2026-1-01'],
    ['a date-time', '2026-01-01T00:00:00Z'],
    ['surrounding spaces', ' 2026-01-01 '],
    ['slashes', '2026/01/01'],
    ['a five-digit year', '12026-01-01'],
    ['an empty string', ''],
  ])('refuses %s (%s)', (_what, value) => {
    expect(isCalendarDate(value)).toBe(false);
  });

  it.each([20260101, null, undefined, new Date('2026-01-01'), ['2026-01-01']])('refuses the non-string %p', (value) => {
    expect(isCalendarDate(value)).toBe(false);
  });

  // Date.UTC maps years 0–99 to 1900–1999, so a check through it misreads the first century.
  it.each(['0001-01-01', '0050-06-15', '0099-12-31'])('accepts %s, a year of the first century', (value) => {
    expect(isCalendarDate(value)).toBe(true);
  });
});

describe('@IsCalendarDate', () => {
  class Dto {
    @IsCalendarDate()
    dueDate: unknown;
  }

  function errorsFor(dueDate: unknown) {
    const dto = Object.assign(new Dto(), { dueDate });
    return validateSync(dto).map((error) => ({ property: error.property, constraints: error.constraints }));
  }

  it('passes a calendar date', () => {
    expect(errorsFor('2026-03-31')).toEqual([]);
  });

  it('fails anything else with a message naming the field and the format', () => {
    expect(errorsFor('2026-02-30')).toEqual([
      { property: 'dueDate', constraints: { isCalendarDate: 'dueDate must be a calendar date written YYYY-MM-DD' } },
    ]);
  });
});
