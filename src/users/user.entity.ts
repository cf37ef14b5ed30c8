import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('users')
// Unique on lower(email): an expression index, created by the migration and invisible to the schema diff.
@Index('users_email_lower_key', { synchronize: false })
@Check('users_name_check', 'char_length(name) BETWEEN 1 AND 100')
export class User {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'users_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  /** Maintained by the `users_set_updated_at` trigger. */
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
