/**
 * The sort orders the list accepts, each with the SQL expression it orders by. Every one is served by an
 * index led by user_id (see the InitialSchema migration); `id` breaks ties, so the order is total and a
 * keyset cursor `(value, id)` marks an exact position. Tasks without a due date sort as 'infinity'.
 */
export const SORTS = [
  'createdAt',
  '-createdAt',
  'updatedAt',
  '-updatedAt',
  'dueDate',
  '-dueDate',
  'title',
  '-title',
] as const;
export type Sort = (typeof SORTS)[number];

export interface SortSpec {
  /** The ordering expression over alias `t`. */
  expression: string;
  descending: boolean;
  /** The expression as text that round-trips exactly (microseconds included) into a cursor. */
  cursorValue: string;
  /** SQL type of the cursor value, to cast the parameter back. */
  type: 'timestamptz' | 'date' | 'text';
}

const TIMESTAMP_TEXT = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const KEYS: Record<string, Omit<SortSpec, 'descending'>> = {
  createdAt: { expression: 't.created_at', cursorValue: TIMESTAMP_TEXT('t.created_at'), type: 'timestamptz' },
  updatedAt: { expression: 't.updated_at', cursorValue: TIMESTAMP_TEXT('t.updated_at'), type: 'timestamptz' },
  dueDate: {
    expression: "COALESCE(t.due_date, 'infinity'::date)",
    cursorValue: "COALESCE(to_char(t.due_date, 'YYYY-MM-DD'), 'infinity')",
    type: 'date',
  },
  title: { expression: 't.title', cursorValue: 't.title', type: 'text' },
};

const SPECS = Object.fromEntries(
  SORTS.map((sort) => {
    const descending = sort.startsWith('-');
    return [sort, Object.freeze({ ...KEYS[descending ? sort.slice(1) : sort], descending })];
  }),
) as Record<Sort, SortSpec>;

export const sortSpec = (sort: Sort): SortSpec => SPECS[sort];
