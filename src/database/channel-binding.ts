import * as pg from 'pg';

// node-postgres' connection handlers, which this client wraps (pg 8.x; not part of its typed API).
type Handler = (this: pg.Client, message: unknown) => void;
const base = pg.Client.prototype as unknown as Record<'_handleAuthSASL' | '_handleReadyForQuery', Handler>;

/**
 * libpq's `channel_binding=require` for node-postgres. Its `enableChannelBinding` behaves like libpq's
 * `prefer`: SCRAM-SHA-256-PLUS when the server offers it, and otherwise plain SCRAM, a password, or no
 * authentication at all, which is exactly the downgrade a man in the middle would arrange. This client
 * refuses to finish connecting unless the server authenticated it with SCRAM-SHA-256-PLUS.
 */
export class ChannelBindingClient extends pg.Client {
  private channelBound = false;

  _handleAuthSASL(message: { mechanisms: string[] }): void {
    if (!message.mechanisms.includes('SCRAM-SHA-256-PLUS')) {
      return this.refuse(`the server offers only ${message.mechanisms.join(', ')}`);
    }
    this.channelBound = true;
    base._handleAuthSASL.call(this, message);
  }

  _handleAuthCleartextPassword(): void {
    this.refuse('the server asked for a cleartext password');
  }

  _handleAuthMD5Password(): void {
    this.refuse('the server asked for an MD5 password');
  }

  _handleReadyForQuery(message: unknown): void {
    // Reached without SASL: the server let the connection in without a password (trust).
    if (!this.channelBound) return this.refuse('the server did not authenticate with SCRAM');
    base._handleReadyForQuery.call(this, message);
  }

  private refuse(reason: string): void {
    const connection = (this as unknown as { connection: { emit(event: string, error: Error): void; end(): void } })
      .connection;
    const error = Object.assign(new Error(`channel_binding=require, but ${reason} (SCRAM-SHA-256-PLUS needed)`), {
      code: 'CHANNEL_BINDING_REQUIRED',
    });
    connection.emit('error', error);
    connection.end();
  }
}
