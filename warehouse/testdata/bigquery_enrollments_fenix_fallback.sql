WITH raw_enrollments AS (
    SELECT
        b.client_info.client_id AS analysis_id,
        (SELECT kv.value FROM UNNEST(b.ping_info.experiments) AS kv WHERE kv.key = 'test-experiment' LIMIT 1).branch AS branch,
        DATE(MIN(b.submission_timestamp)) AS enrollment_date,
        COUNT(b.submission_timestamp) AS num_enrollment_events
    FROM `moz-fx-data-shared-prod.fenix.baseline` b
    WHERE b.client_info.client_id IS NOT NULL
        AND DATE(b.submission_timestamp) BETWEEN DATE_SUB(DATE '2020-03-30', INTERVAL 7 DAY) AND DATE '2020-04-06'
        AND (SELECT kv.value FROM UNNEST(b.ping_info.experiments) AS kv WHERE kv.key = 'test-experiment' LIMIT 1).branch IS NOT NULL
        AND b.sample_id < 10
    GROUP BY 1, 2
    HAVING enrollment_date >= DATE '2020-03-30'
),
segmented_enrollments AS (
    SELECT raw_enrollments.* FROM raw_enrollments
),
exposures AS (
    SELECT
        re.analysis_id,
        re.branch,
        MIN(x.submission_date) AS exposure_date,
        COUNT(x.submission_date) AS num_exposure_events
    FROM raw_enrollments re
    JOIN (
        SELECT
            ev.client_id AS analysis_id,
            JSON_VALUE(ev.event_extra, '$.branch') AS branch,
            DATE(ev.submission_timestamp) AS submission_date
        FROM `moz-fx-data-shared-prod.fenix.events_stream` ev
        WHERE DATE(ev.submission_timestamp) BETWEEN DATE '2020-03-30' AND DATE '2020-04-06'
            AND ev.event_category = 'nimbus_events'
            AND ev.event_name IN ('expose', 'exposure')
            AND JSON_VALUE(ev.event_extra, '$.experiment') = 'test-experiment'
    ) x
        ON re.analysis_id = x.analysis_id
        AND re.branch = x.branch
        AND x.submission_date >= re.enrollment_date
    GROUP BY 1, 2
)
SELECT
    se.*,
    x.exposure_date,
    x.num_exposure_events
FROM segmented_enrollments se
LEFT JOIN exposures x USING (analysis_id, branch)
