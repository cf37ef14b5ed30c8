export class TaskStatsDto {
  /** @example 12 */
  total: number;
  /** @example 5 */
  completed: number;
  /** @example 7 */
  pending: number;
  /** Not completed and due before today (UTC). @example 2 */
  overdue: number;
}
