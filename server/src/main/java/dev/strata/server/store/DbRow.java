package dev.strata.server.store;

/** A database the server keeps: its cluster, name and high-water mark (the newest TXID durable in storage). */
public record DbRow(long id, String cluster, String name, long hwm) {}
