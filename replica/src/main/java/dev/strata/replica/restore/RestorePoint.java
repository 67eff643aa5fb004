package dev.strata.replica.restore;

import java.time.Instant;

/**
 * A state a database can be restored to: the end of a replica file from which a snapshot chain reaches.
 *
 * @param timestamp the LTX header timestamp of the last transaction
 * @param postApplyChecksum the database checksum at {@code txid}; 0 when the listing does not carry it
 * @param files how many files a restore to this point reads
 */
public record RestorePoint(long txid, Instant timestamp, long postApplyChecksum, int files) {}
