import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** One login: its refresh-token generation and the state every access token of the session is checked against. */
@Entity('sessions')
export class Session {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'sessions_pkey' })
  id: string;

  @Index('sessions_user_id_idx')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'sessions_user_id_fkey' })
  user?: User;

  /** The previous release's refresh token hash; no longer written, dropped in a later release. */
  @Column({ name: 'refresh_token_hash', type: 'bytea', nullable: true })
  refreshTokenHash: Buffer | null;

  /** The previous release's reuse window; no longer written, dropped in a later release. */
  @Column({ name: 'rotated_token_hashes', type: 'bytea', array: true, default: () => "'{}'" })
  rotatedTokenHashes: Buffer[];

  /** The generation of the one refresh token that works now; every rotation adds 1. */
  @Column({ name: 'refresh_generation', type: 'integer', default: 0 })
  refreshGeneration: number;

  /** Random; with the server secret it makes the key of this session's refresh-token MACs. */
  @Column({ name: 'refresh_key_nonce', type: 'bytea', nullable: true })
  refreshKeyNonce: Buffer | null;

  /** When the session last proved the password (login, password check); access tokens carry it as auth_time. */
  @Column({ name: 'authenticated_at', type: 'timestamptz', default: () => 'now()' })
  authenticatedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', default: () => 'now()' })
  lastUsedAt: Date;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ type: 'inet', nullable: true })
  ip: string | null;
}
