package queueing

import "math"

// Center is one station of a closed queueing network, as mean-value
// analysis sees it: the total service demand a request puts on it (all its
// visits together) and how many servers share that demand.
type Center struct {
	// Demand is the service time one request needs there, in seconds.
	Demand float64
	// Servers is the number of servers; 0 means a delay (infinite servers:
	// nobody ever waits there).
	Servers int
}

// MVA solves a closed network of n customers, each cycling through the
// centers with think time z seconds, by exact mean-value analysis with
// load-dependent multi-server centers. It returns the throughput X(n) and
// each center's mean residence time R_k(n) (wait + service) per cycle.
//
// A multi-server center serves j customers at rate min(j, m)/Demand, so m
// customers are served at once and the (m+1)-th waits. The marginal queue
// length probabilities are kept per center; p(0) is clamped at 0, the known
// numerical weak spot of exact multi-server MVA near saturation.
func MVA(centers []Center, n int, z float64) (x float64, resid []float64) {
	resid = make([]float64, len(centers))
	if n < 1 {
		return 0, resid
	}
	// p[k][j] = P(j customers at center k) with the current population.
	p := make([][]float64, len(centers))
	for k := range centers {
		p[k] = make([]float64, n+1)
		p[k][0] = 1
	}
	for pop := 1; pop <= n; pop++ {
		total := z
		for k, c := range centers {
			switch {
			case c.Demand <= 0:
				resid[k] = 0
			case c.Servers <= 0:
				resid[k] = c.Demand
			default:
				// R = Σ_j j/α(j) · D · p(j-1 | pop-1), α(j) = min(j, m).
				var r float64
				for j := 1; j <= pop; j++ {
					r += float64(j) / float64(min(j, c.Servers)) * c.Demand * p[k][j-1]
				}
				resid[k] = r
			}
			total += resid[k]
		}
		if total <= 0 {
			return math.Inf(1), resid
		}
		x = float64(pop) / total
		for k, c := range centers {
			if c.Demand <= 0 || c.Servers <= 0 {
				continue
			}
			// p(j | pop) = D/α(j) · X · p(j-1 | pop-1), downwards so the
			// previous population's values are still there when read.
			var sum float64
			for j := pop; j >= 1; j-- {
				p[k][j] = c.Demand / float64(min(j, c.Servers)) * x * p[k][j-1]
				sum += p[k][j]
			}
			p[k][0] = math.Max(0, 1-sum)
		}
	}
	return x, resid
}
