import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../users/user.entity';

export const PRIORITIES = ['low', 'medium', 'high'] as const;
export type Priority = (typeof PRIORITIES)[number];

@Entity('tasks')
// Created by the migrations with column orderings and expressions TypeORM cannot describe:
// (user_id, created_at DESC, id DESC) and its siblings for each sort, and the full-text GIN index.
@Index('tasks_user_created_idx', { synchronize: false })
@Index('tasks_user_updated_idx', { synchronize: false })
@Index('tasks_user_due_idx', { synchronize: false })
@Index('tasks_user_title_idx', { synchronize: false })
@Index('tasks_search_idx', { synchronize: false })
@Index('tasks_user_completed_due_idx', ['userId', 'completed', 'dueDate'])
@Check('tasks_title_check', 'char_length(title) BETWEEN 1 AND 200')
@Check('tasks_description_check', 'char_length(description) <= 2000')
@Check('tasks_priority_check', "priority IN ('low', 'medium', 'high')")
@Check('tasks_completed_at_check', 'completed = (completed_at IS NOT NULL)')
export class Task {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'tasks_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'tasks_user_id_fkey' })
  user?: User;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'boolean', default: false })
  completed: boolean;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  /** A calendar date, "YYYY-MM-DD" (kept as a string: see data-source.options.ts). */
  @Column({ name: 'due_date', type: 'date', nullable: true })
  dueDate: string | null;

  @Column({ type: 'varchar', length: 6, default: 'medium' })
  priority: Priority;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  /** Maintained by the `tasks_set_updated_at` trigger. */
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  @Column({ type: 'integer', default: 1 })
  version: number;
}
