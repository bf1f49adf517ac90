/**
 * The user log: one line per event, `<UTC time> <LEVEL> <message>`, as Neo4j's neo4j.log, written
 * to stdout (the `start` command redirects it to logs/quiver.log).
 */
export type LogLevel = 'info' | 'warn' | 'error';

export type Logger = (level: LogLevel, message: string) => void;

export function timestamp(d = new Date()): string {
  return d.toISOString().replace('T', ' ').replace('Z', '+0000');
}

export function consoleLogger(out: NodeJS.WritableStream = process.stdout): Logger {
  return (level, message) => {
    out.write(`${timestamp()} ${level.toUpperCase().padEnd(5)} ${message}\n`);
  };
}
