// Types for sql.js, so the bench's TypeScript can run the same statements (see explain.ts).
export interface Query {
  text: string;
  values: unknown[];
}

export declare const SESSION_CHECK: string;
export declare function withSessionCheck(query: Query, userId: string, sessionId: string): Query;
export declare const SORT: { name: string; expression: string; cursorValue: string; type: string };
export declare function listTasks(
  userId: string,
  options: { completed?: boolean; q?: string; after?: { value: string; id: string }; limit: number },
): Query;
export declare function getTask(userId: string, id: string): Query;
export declare function insertTask(
  id: string,
  userId: string,
  task: { title: string; description?: string | null; dueDate?: string | null; priority?: string; completed?: boolean },
): Query;
export declare function updateTask(userId: string, id: string, changes: Record<string, unknown>): Query | undefined;
