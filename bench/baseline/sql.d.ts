// Types for sql.js, so the bench's TypeScript can run the same statements (see explain.ts).
export interface Query {
  text: string;
  values: unknown[];
}

/** A statement given the gate expression it must AND into its WHERE. */
export type Gated = (gate: string) => Query;

export declare function withSessionCheck(statement: Gated, userId: string, sessionId: string): Query;
export declare const SORT: { name: string; expression: string; cursorValue: string; type: string };
export declare function listTasks(
  userId: string,
  options: { completed?: boolean; q?: string; after?: { value: string; id: string }; limit: number },
  gate?: string,
): Query;
export declare function getTask(userId: string, id: string, gate?: string): Query;
export declare function insertTask(
  id: string,
  userId: string,
  task: { title: string; description?: string | null; dueDate?: string | null; priority?: string; completed?: boolean },
  gate?: string,
): Query;
export declare function updateTask(
  userId: string,
  id: string,
  changes: Record<string, unknown>,
  gate?: string,
): Query | undefined;
export declare function prepared(query: Query): Query & { name: string };
