/** GET /healthz's answer. */
import Type from 'typebox';

const Check = Type.Enum(['ok', 'down']);

export const Health = Type.Object(
  {
    status: Type.Enum(['ok', 'error']),
    postgres: Check,
    redis: Check,
    message: Type.Optional(Type.String({ description: 'What is down, and why.' })),
  },
  { $id: 'Health', description: 'Whether the API reaches PostgreSQL and Redis.' },
);
