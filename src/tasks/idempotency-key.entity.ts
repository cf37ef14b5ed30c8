import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** The first response to a `POST /tasks` carrying an `Idempotency-Key`, replayed on retries. */
@Entity('idempotency_keys')
@Check('idempotency_keys_status_check', "status IN ('in_progress', 'completed')")
export class IdempotencyKey {
  @PrimaryColumn('uuid', { name: 'user_id', primaryKeyConstraintName: 'idempotency_keys_pkey' })
  userId: string;

  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'idempotency_keys_pkey' })
  key: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'idempotency_keys_user_id_fkey' })
  user?: User;

  /** SHA-256 of the request body, to tell a retry from a different request reusing the key. */
  @Column({ name: 'request_hash', type: 'bytea' })
  requestHash: Buffer;

  @Column({ type: 'varchar', length: 11 })
  status: 'in_progress' | 'completed';

  /** `{status, body}` of the first response, once it completed. */
  @Column({ type: 'jsonb', nullable: true })
  response: unknown;

  @Index('idempotency_keys_created_at_idx')
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
