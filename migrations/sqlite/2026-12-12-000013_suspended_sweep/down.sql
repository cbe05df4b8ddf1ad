DROP INDEX agents_suspended;
