"""The engine's codes, defined once: slot statuses, statistics columns, random streams,
distribution kinds and the reasons a lane stops. The engine, the trace, the replay and the
metrics all read them from here.
"""

from __future__ import annotations

# --- slot statuses (State.status). A slot is the source (slot 0), a server, a vehicle or a
# pool's shift timer. Servers:
IDLE = 0  # no job
BUSY = 1  # processing (for the source: its interarrival timer runs)
BLOCKED = 2  # finished, holding its job until a place frees at its target
DOWN = 3  # under repair
OFF = 4  # not a working server in this lane (or an unused slot)
WAITING = 5  # holding a job that waits for power under the cap
HANDOVER = 6  # holding a finished job that waits for a vehicle (its place is reserved)
WAIT_UNITS = 7  # holding a job that waits for units of resource pools
SERVER_STATES = ("idle", "busy", "blocked", "down", "off", "waiting", "handover", "wait_units")

# Vehicles (codes apart from the servers', so no server rule ever matches a vehicle). A status
# says what ends at the vehicle's next event: LOADING = drive empty to a pickup, then load;
# UNLOADING = drive loaded, then unload; CHARGING = drive to a charger, then charge.
V_IDLE, V_TO_PICKUP, V_LOADING, V_LOADED, V_UNLOADING = 10, 11, 12, 13, 14
V_TO_HOME, V_TO_CHARGER, V_CHARGE_WAIT, V_CHARGING = 15, 16, 17, 18
VEHICLE_STATES = ("idle", "to_pickup", "loading", "loaded", "unloading", "to_home",
                  "to_charger", "charge_wait", "charging")  # status - V_IDLE
SHIFT_TIMER = 20  # a pool's shift timer: its next event is the next change of shift

# --- per-station time integrals (State.area[lane, station, column]). C_ENERGY integrates the
# station's draw (kWh); the others count servers (or jobs, for the queue).
C_BUSY, C_BLOCKED, C_DOWN, C_QUEUE, C_WAIT, C_UNITS, C_ENERGY = 0, 1, 2, 3, 4, 5, 6
C_ON = 7  # servers in force (switched on): the denominator of the shares
N_AREA = 8
# per-fleet vehicle-time integrals (State.f_area[lane, fleet, status - V_IDLE])
N_VEHICLE_STATES = 9

# --- columns of the results per period (State.series[lane, period]): the window's figures at
# the period's end: exits, their cycle times, the integrals of jobs inside and of the heat, the
# largest heat held in the period, then per station the integrals of busy and of in-force
# servers
SC_EXITS, SC_CT, SC_WIP, SC_HEAT, SC_PEAK = 0, 1, 2, 3, 4
SERIES_FIXED = 5

# --- random streams: four per station row (row J is the source): stream 4 j + purpose
S_SERVICE, S_ROUTE, S_TTF, S_REPAIR = 0, 1, 2, 3
S_PRODUCT = S_ROUTE  # the source's row: the product of each order (its routing is certain)
STREAMS_PER_STATION = 4

# --- ring-buffer entries (State.queue): the job's entry time, when it entered the buffer (at
# an assembly: when its set became complete), its tag, its set-completion number (0: the set is
# not complete), then at an assembly its parts of each kind
Q_JOB, Q_SINCE, Q_TAG, Q_DONE = 0, 1, 2, 3
QUEUE_FIXED = 4
# --- assembly stations (Params.assembly)
MATCH_ORDER, MATCH_ANY = 1, 2

# --- distribution kinds (Params.dist_kind), and the width of their parameter vector
DETERMINISTIC, EXPONENTIAL, UNIFORM, TRIANGULAR, LOGNORMAL, GAMMA, EMPIRICAL = range(7)
N_DIST_PARAMS = 5
# grid of the gamma quantile tables: log-quantiles tabulated on normal scores z
GAMMA_Z_MIN, GAMMA_Z_MAX, GAMMA_GRID = -8.0, 8.0, 8193

# --- power tables: columns 0..7 are indexed by server status; busy-profile steps follow
STEP0 = 8
CAP_TOLERANCE = 1e-9  # relative slack of the cap check, for the rounding of running sums

# --- why a lane's loop returned (State.stop)
RUNNING = 0  # reached the end of the time slice; more to do
DONE = 1  # reached its horizon
GROW_QUEUE = 2  # a station's ring buffer is full: the host grows it, then the lane goes on
GROW_EXITS = 3  # the store of cycle times is full
DEADLOCK = 4  # no event can ever happen again before the horizon
CAP_BROKEN = 5  # invariant violated: the reserved power exceeds the cap
TRACE_FULL = 6  # the trace buffer is nearly full: the host drains it, then the lane goes on

# --- rows of the event trace (twin.engine.recorder): columns, and the kinds of row
TR_TIME, TR_KIND, TR_WHO, TR_STATE, TR_JOB, TR_FROM, TR_TO, TR_VALUE, TR_HEAT, TR_TAG = range(10)
TRACE_COLUMNS = 10
TRACE_SERVER, TRACE_VEHICLE, TRACE_QUEUE, TRACE_POOL, TRACE_EXIT = range(5)

HOURS_PER_WEEK = 168.0
